// The sitting as a page sees it: the welcome's snapshot, folded forward by events
// (the same fold as server/core/meeting.py's apply, for the fields a screen shows).
// An event the fold cannot reproduce (a ballot it never heard of) returns "resync": the
// connection then fetches a fresh snapshot. Ballots come as
// the server's views (snapshot, ballot.created): no page validates a definition itself.

export class Sitting {
  constructor() {
    this.snap = null;
    this.role = null;
    this.member = null;
    this.seat = null;
    this.progress = null; // newest progress message (clerk, display)
    this.summaryMsg = null; // newest summary message (seats)
    this.lastClosed = null; // {ballot, at}: the result screens show
  }

  load(snapshot, welcome) {
    this.snap = snapshot;
    this.role = welcome.role;
    this.member = welcome.member;
    this.seat = welcome.seat;
    this.summaryMsg = null;
    for (const b of snapshot.ballots) {
      b.voters = b.voters || [];
      b.mine = b.mine || {};
      if (this.progress && this.progress.ballot === b.id && this.progress.run !== b.run) this.progress = null;
    }
    const closed = snapshot.ballots
      .filter((b) => (b.status === "closed" || b.status === "announced") && b.closed_at)
      .sort((a, b) => b.closed_at - a.closed_at)[0];
    const opened = Math.max(0, ...snapshot.ballots.map((b) => b.opened_at || 0));
    this.lastClosed = closed && closed.closed_at >= opened ? { ballot: closed.id, at: closed.closed_at } : null;
  }

  get ready() {
    return this.snap !== null;
  }

  get meeting() {
    return this.snap ? this.snap.meeting : null;
  }

  ballot(id) {
    return this.snap ? this.snap.ballots.find((b) => b.id === id) : undefined;
  }

  liveBallot() {
    return this.snap ? this.snap.ballots.find((b) => b.status === "open" || b.status === "held") : undefined;
  }

  memberById(id) {
    return this.snap.members.find((m) => m.id === id);
  }

  item(id) {
    return this.snap.items.find((i) => i.id === id);
  }

  currentItem() {
    return this.snap && this.snap.current_item ? this.item(this.snap.current_item) : undefined;
  }

  /** Attendance summary: the server's for tablets, else counted from the attendance table. */
  summary() {
    if (!this.snap) return null;
    if (this.role === "seat" || this.role === "device") return this.summaryMsg || this.snap.summary;
    const counts = { present: 0, leave: 0, absent: 0 };
    const voting = this.snap.members.filter((m) => m.votes);
    for (const m of voting) counts[this.snap.attendance[m.id] || "absent"] += 1;
    const needed = this.snap.summary.quorum_needed;
    return { seated: voting.length, ...counts, quorum_needed: needed, quorum_met: counts.present >= needed };
  }

  /** How many have voted in a ballot, and how many could (present). */
  turnout(b) {
    const p = this.progress;
    if (p && p.ballot === b.id && p.run === b.run && b.status !== "closed" && b.status !== "announced") {
      return { voted: Math.max(p.voted, b.voted || 0), present: p.present, live: p.live || b.live || null };
    }
    if (b.result) return { voted: b.result.voted, present: b.result.present, live: null };
    const s = this.summary();
    return { voted: b.voted || 0, present: s ? s.present : 0, live: b.live || null };
  }

  setProgress(msg) {
    this.progress = msg;
    const b = this.ballot(msg.ballot);
    if (b && b.run === msg.run && (b.status === "open" || b.status === "held")) {
      b.voted = Math.max(b.voted || 0, msg.voted);
      if (msg.live) b.live = msg.live;
      if (msg.voters) b.voters = msg.voters; // the clerk's "who has voted", coalesced
    }
  }

  setSummary(msg) {
    const { type, ...summary } = msg;
    this.summaryMsg = summary;
  }

  apply(ev) {
    if (!this.snap) return null;
    const s = this.snap;
    const b = typeof ev.ballot === "string" ? this.ballot(ev.ballot) : undefined;
    switch (ev.name) {
      case "attendance.changed":
        s.attendance[ev.member] = ev.status;
        return null;
      case "item.selected":
        s.current_item = ev.item;
        this.lastClosed = null;
        return null;
      case "keypad.status":
        s.keypads[ev.seat] = ev.online;
        return null;
      case "keypad.line":
        s.keypad_lines = s.keypad_lines || {};
        s.keypad_lines[ev.line] = { online: ev.online, reason: ev.reason, detail: ev.detail, seats: ev.seats };
        return null;
      case "sitting.closed":
        s.closed = true;
        return null;
      case "ballot.created": {
        // the server sends the ballot as this role sees it: no client re-validates a definition
        const view = ev.ballot;
        s.ballots = [...s.ballots.filter((x) => x.id !== view.id), view];
        const item = s.items.find((it) => it.id === view.item);
        if (item && !item.ballots.includes(view.id)) item.ballots = [...item.ballots, view.id];
        return null;
      }
      case "ballot.opened":
        if (!b) return "resync";
        if (b.status === "voided") {
          b.previous_runs = [...(b.previous_runs || []), { run: b.run, status: "voided", result: b.result || null }];
        }
        Object.assign(b, {
          status: "open", run: ev.run, opened_at: ev.at, closed_at: null, deadline: ev.deadline, remaining: null,
          voted: 0, voters: [], mine: {}, result: null, live: null, choices: undefined, urn_digest: undefined,
        });
        this.progress = null;
        this.lastClosed = null;
        return null;
      case "ballot.held":
        if (b) Object.assign(b, { status: "held", remaining: ev.remaining, deadline: null });
        return b ? null : "resync";
      case "ballot.resumed":
        if (b) Object.assign(b, { status: "open", deadline: ev.deadline, remaining: null });
        return b ? null : "resync";
      case "ballot.closed":
        if (!b) return "resync";
        // under reveal = "on_announce" the room's close carries no result: it comes with the announcement
        Object.assign(b, {
          status: "closed", closed_at: ev.at, result: ev.result || null, urn_digest: ev.urn_digest,
          deadline: null, remaining: null, voted: ev.result ? ev.result.voted : b.voted, live: null,
          choices: ev.choices, // a named ballot's list, published with its result
        });
        this.lastClosed = { ballot: b.id, at: ev.at };
        return null;
      case "ballot.announced":
        if (b) b.status = "announced";
        if (b && ev.result) {
          Object.assign(b, { result: ev.result, urn_digest: ev.urn_digest, voted: ev.result.voted, choices: ev.choices });
        }
        return null;
      case "ballot.voided":
        if (b) Object.assign(b, { status: "voided", reason: ev.reason, deadline: null, remaining: null });
        if (this.lastClosed && this.lastClosed.ballot === ev.ballot) this.lastClosed = null;
        return null;
      case "vote.cast":
        if (!b || b.run !== ev.run) return null;
        if (!b.voters.includes(ev.member)) {
          b.voters.push(ev.member);
          if (this.role === "clerk") b.voted = Math.max(b.voted || 0, b.voters.length);
        }
        if (!b.secret) b.named = { ...(b.named || {}), [ev.member]: ev.choice };
        if (this.role === "seat" || this.role === "device") {
          const known = b.mine[ev.member];
          const choice = ev.choice !== null && ev.choice !== undefined ? ev.choice : known && known.choice;
          b.mine[ev.member] = choice === undefined ? { recorded: true } : { recorded: true, choice };
        }
        return null;
      default:
        // the floor: each speaker.* event carries the whole floor as this role sees it
        if (ev.name.startsWith("speaker.") && ev.floor) s.floor = ev.floor;
        return null; // documents and other features: not the three screens' business
    }
  }
}
