// A browser client for the Hemicycle protocol (docs/protocol.md), mirroring
// terminal_client/client.py: connect, say hello, keep the sitting's state, reconnect with
// backoff and resume from the last sequence number, re-send casts (same idempotency key)
// until the server acknowledges or refuses them. Clerk commands are not re-sent: a command
// cut off by a drop fails with code "connection_lost" and the person decides.

import { Sitting } from "./state.js";

export class ProtocolError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.code = code;
    this.serverMessage = message;
  }
}

export function newKey() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function wsUrl() {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
}

export class Connection {
  // getToken: async () => token (called before each connection; may fetch a fresh one)
  // freshWhenLive: ask for a snapshot instead of resuming while a ballot is live (displays:
  //   their vote counts come from coalesced progress messages, which a resume does not replay)
  constructor({ getToken, url = wsUrl(), backoff = [250, 4000], pingMs = 15000, freshWhenLive = false }) {
    this.getToken = getToken;
    this.url = url;
    this.backoff = backoff;
    this.pingMs = pingMs;
    this.freshWhenLive = freshWhenLive;
    this.state = new Sitting();
    this.status = "connecting"; // connecting | online | offline | refused
    this.welcome = null;
    this.lastSeq = 0;
    this.connections = 0;
    this.pending = new Map(); // id -> {msg, resolve, reject, resend, timer}
    this.listeners = new Set();
    this.ws = null;
    this.nextId = 1;
    this.delay = backoff[0];
    this.stopped = false;
    this.wantFresh = false;
    this.refreshToken = false;
  }

  on(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(kind, detail) {
    for (const fn of this.listeners) {
      try {
        fn(kind, detail);
      } catch (err) {
        console.error(err); // a broken listener must not break the connection
        reportError(err);
      }
    }
  }

  setStatus(status) {
    if (this.status !== status) {
      this.status = status;
      this.emit("status", status);
    }
  }

  start() {
    this.stopped = false;
    this.open();
    return this;
  }

  stop() {
    this.stopped = true;
    if (this.ws) this.ws.close();
  }

  /** Drop the connection and come back with a full snapshot (e.g. after ballot.created). */
  resync() {
    this.wantFresh = true;
    if (this.ws) this.ws.close();
  }

  /** Resync once no command awaits its answer (its reply would be lost with the socket). */
  maybeResync() {
    if (!this.resyncWanted) return;
    const waiting = [...this.pending.values()].some((e) => !e.resend);
    if (waiting) {
      setTimeout(() => this.maybeResync(), 200);
      return;
    }
    this.resyncWanted = false;
    this.resync();
  }

  async open() {
    if (this.stopped) return;
    let token;
    try {
      token = await this.getToken(this.refreshToken);
    } catch (err) {
      this.refreshToken = true;
      this.retry();
      return;
    }
    if (!token) {
      this.setStatus("refused");
      return;
    }
    this.refreshToken = false;
    const ws = new WebSocket(this.url);
    this.ws = ws;
    let lastHeard = Date.now();
    let pinger = null;
    ws.onopen = () => {
      const hello = { type: "hello", v: 1, token };
      const live = this.state.liveBallot();
      const fresh = this.wantFresh || (this.freshWhenLive && live);
      if (this.welcome && !fresh) hello.last_seq = this.lastSeq;
      this.wantFresh = false;
      ws.send(JSON.stringify(hello));
      pinger = setInterval(() => {
        if (Date.now() - lastHeard > this.pingMs * 3) {
          ws.close(); // silent too long: assume the line is dead and reconnect
          return;
        }
        if (ws.readyState === WebSocket.OPEN) ws.send('{"type":"ping"}');
      }, this.pingMs);
    };
    ws.onmessage = (ev) => {
      lastHeard = Date.now();
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      this.handle(ws, msg);
    };
    ws.onclose = () => {
      clearInterval(pinger);
      if (this.ws === ws) this.ws = null;
      this.failUnsafe();
      if (this.stopped) return;
      if (this.status !== "refused") this.setStatus(this.welcome ? "offline" : "connecting");
      this.retry();
    };
    ws.onerror = () => {}; // onclose follows
  }

  retry() {
    if (this.stopped || this.status === "refused") return;
    const jitter = 0.8 + Math.random() * 0.4;
    setTimeout(() => this.open(), this.delay * jitter);
    this.delay = Math.min(this.backoff[1], this.delay * 2);
  }

  handle(ws, msg) {
    const kind = msg.type;
    if (kind === "welcome") {
      ws.welcomed = true;
      this.welcome = msg;
      this.connections += 1;
      this.delay = this.backoff[0];
      if (!msg.resumed) {
        this.state.load(msg.snapshot, msg);
        this.lastSeq = msg.seq;
      }
      this.setStatus("online");
      this.emit("welcome", msg);
      for (const entry of this.pending.values()) {
        if (entry.resend) ws.send(JSON.stringify(entry.msg));
      }
      this.emit("change", { name: "welcome" });
      return;
    }
    if (kind === "event") {
      if (msg.seq <= this.lastSeq) return;
      this.lastSeq = msg.seq;
      const outcome = this.state.apply(msg.event);
      this.emit("event", msg.event);
      this.emit("change", msg.event);
      if (outcome === "resync") {
        this.resyncWanted = true;
        this.maybeResync();
      }
      return;
    }
    if (kind === "progress" || kind === "summary") {
      this.state[kind === "progress" ? "setProgress" : "setSummary"](msg);
      this.emit("change", { name: kind });
      return;
    }
    if (kind === "error" && !ws.welcomed && msg.re == null) {
      if (msg.code === "bad_token") {
        this.refreshToken = true; // a console asks for a new token; a tablet gives up below
        if (!this.getToken.canRefresh) this.setStatus("refused");
      }
      this.emit("fatal", msg);
      return;
    }
    // everything this connection may see up to an ack's seq was sent before the ack
    if ((kind === "ack" || kind === "ok") && Number.isInteger(msg.seq) && ws.welcomed) {
      this.lastSeq = Math.max(this.lastSeq, msg.seq);
    }
    if (["ack", "ok", "error", "pong"].includes(kind) && this.pending.has(msg.re)) {
      const entry = this.pending.get(msg.re);
      this.pending.delete(msg.re);
      clearTimeout(entry.timer);
      if (kind === "error") entry.reject(new ProtocolError(msg.code, msg.message));
      else entry.resolve(msg);
      this.maybeResync();
    }
    this.emit("message", msg);
  }

  failUnsafe() {
    for (const [id, entry] of this.pending) {
      if (!entry.resend) {
        this.pending.delete(id);
        clearTimeout(entry.timer);
        entry.reject(new ProtocolError("connection_lost", "the connection dropped before the server answered"));
      }
    }
  }

  request(msg, { resend = false, timeoutMs = 30000 } = {}) {
    const id = `r${this.nextId++}`;
    const full = { ...msg, id };
    const online = this.status === "online" && this.ws && this.ws.readyState === WebSocket.OPEN;
    if (!online && !resend) {
      return Promise.reject(new ProtocolError("connection_lost", "not connected"));
    }
    return new Promise((resolve, reject) => {
      const entry = { msg: full, resolve, reject, resend, timer: null };
      if (!resend) {
        entry.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new ProtocolError("timeout", "no answer from the server"));
        }, timeoutMs);
      }
      this.pending.set(id, entry);
      if (online) this.ws.send(JSON.stringify(full));
    });
  }

  /** Vote; resolves with the ack once durable, re-sent with the same key after drops. */
  cast(ballot, choice, key = newKey()) {
    return this.request({ type: "cast", ballot, choice, key }, { resend: true });
  }

  checkIn() {
    return this.request({ type: "check_in" }, { resend: true });
  }

  checkOut() {
    return this.request({ type: "check_out" }, { resend: true });
  }

  command(name, args = {}) {
    return this.request({ type: "command", name, args });
  }

  /** Casts sent but not yet acknowledged (e.g. made while offline). */
  queuedCasts() {
    return [...this.pending.values()].filter((e) => e.resend && e.msg.type === "cast").map((e) => e.msg);
  }
}

/** Report an uncaught problem the way a test or a kiosk log can see it. */
export function reportError(err) {
  setTimeout(() => {
    throw err;
  });
}

/** The server's clock, for countdowns: offset learnt from /api/info. */
export const clock = {
  offset: 0,
  now() {
    return Date.now() / 1000 + this.offset;
  },
  /** Seconds left on a countdown element: its data-deadline (server time) or, for a held
   * ballot, its frozen data-remaining; null when it shows no timer. Shared by the seat,
   * the console and the display so all three count down alike. */
  left(el) {
    const deadline = parseFloat(el.dataset.deadline);
    if (!Number.isNaN(deadline)) return deadline - this.now();
    const remaining = parseFloat(el.dataset.remaining);
    return Number.isNaN(remaining) ? null : remaining;
  },
  async sync() {
    try {
      const t0 = Date.now();
      const res = await fetch("/api/info", { cache: "no-store" });
      const info = await res.json();
      const t1 = Date.now();
      this.offset = info.now - (t0 + t1) / 2000;
      return info;
    } catch {
      return null;
    }
  },
};
