// A tiny element builder and the pieces every screen shares (status badge, result view).

import { t, tOr, num, percent } from "./i18n.js";

/** h("div", {class: "x", onclick: fn}, child, "text", [more]) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "style" && typeof value === "object") Object.assign(el.style, value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Replace a container's content. */
export function mount(container, ...children) {
  container.replaceChildren();
  append(container, children);
}

/** The connection badge: connecting / online / offline / refused. */
export function statusBadge(status) {
  return h("span", { class: `conn conn-${status}`, role: "status", "data-status": status }, t(`conn.${status}`));
}

export function optionLabel(option) {
  return tOr(`option.${option}`, option);
}

export function verdictLabel(verdict) {
  return verdict === null || verdict === undefined ? "" : tOr(`verdict.${verdict}`, String(verdict));
}

/** Order of count keys: the usual options first, then whatever a kind adds. */
export function countKeys(lines) {
  const order = ["for", "against", "abstain", "satisfied", "basically_satisfied", "dissatisfied", "scored"];
  const seen = new Set();
  for (const line of lines) for (const key of Object.keys(line.counts || {})) seen.add(key);
  return [...order.filter((k) => seen.has(k)), ...[...seen].filter((k) => !order.includes(k))];
}

/** Text of a ballot's rule: "for > 1/2 × all seated members". */
export function ruleText(rule) {
  if (!rule) return "";
  return t("rule.text", {
    option: optionLabel(rule.option), cmp: rule.cmp === ">" ? t("rule.gt") : t("rule.ge"),
    fraction: rule.fraction, base: tOr(`base.${rule.base}`, rule.base),
    constant: rule.constant ? ` + ${num(rule.constant)}` : "",
  });
}

/**
 * A result (protocol.md "Results"), generic over its lines: per line the counts as bars,
 * the verdict in words; score lines show their figures. `big` for displays.
 */
export function resultView(result, { detail = true, live = false } = {}) {
  const lines = result.lines || [];
  const keys = countKeys(lines);
  const scoreLike = result.kind === "score";
  const rows = lines.map((line) => {
    if (scoreLike) {
      const fig = (v) => (v === null || v === undefined ? "—" : num(v));
      return h("div", { class: "rline" },
        h("div", { class: "rlabel" }, line.label),
        h("div", { class: "rscore" },
          h("span", {}, t("score.mean"), " ", h("b", {}, fig(line.mean))),
          h("span", {}, t("score.median"), " ", h("b", {}, fig(line.median))),
          h("span", {}, t("score.trimmed"), " ", h("b", {}, fig(line.trimmed_mean))),
          h("span", {}, t("score.count"), " ", h("b", {}, fig(line.count))),
          line.note ? h("span", { class: "muted" }, tOr(`score.note.${line.note}`, line.note)) : null));
    }
    const total = Math.max(1, keys.reduce((sum, k) => sum + (line.counts[k] || 0), 0), result.present || 0);
    const bars = keys.filter((k) => k in line.counts).map((k) =>
      h("div", { class: `bar bar-${k}` },
        h("span", { class: "bname" }, optionLabel(k)),
        h("span", { class: "btrack" }, h("span", { class: "bfill", style: { width: `${(100 * (line.counts[k] || 0)) / total}%` } })),
        h("span", { class: "bcount" }, num(line.counts[k] || 0))));
    const extras = [];
    if (detail && line.needed !== undefined && line.needed !== null) extras.push(t("result.needed", { n: line.needed }));
    if (line.invalid) extras.push(t("result.invalid_n", { n: line.invalid }));
    if (line.rank) extras.push(t("result.rank", { n: line.rank }));
    if (line.write_in) extras.push(t("result.write_in"));
    return h("div", { class: "rline", "data-line": line.id },
      lines.length > 1 || result.kind !== "motion" ? h("div", { class: "rlabel" }, line.label,
        line.post ? h("span", { class: "muted" }, ` ${line.post}`) : null) : null,
      h("div", { class: "bars" }, bars),
      h("div", { class: "rfoot" },
        line.verdict && !live ? h("span", { class: `verdict verdict-${line.verdict}`, "data-verdict": line.verdict }, verdictLabel(line.verdict)) : null,
        extras.length ? h("span", { class: "muted" }, extras.join(" · ")) : null));
  });
  if (live) return h("div", { class: `result live kind-${result.kind}` }, rows);
  const figures = h("div", { class: "rfigures" },
    fig2("result.seated", result.seated), fig2("result.present", result.present), fig2("result.voted", result.voted),
    fig2("result.not_voted", result.not_voted), result.invalid ? fig2("result.invalid", result.invalid) : null);
  return h("div", { class: `result kind-${result.kind}` },
    result.verdict && (lines.length > 1 || result.kind !== "motion")
      ? h("div", { class: `overall verdict-${result.verdict}`, "data-verdict": result.verdict }, verdictLabel(result.verdict)) : null,
    rows, figures);
}

function fig2(key, value) {
  if (value === undefined || value === null) return null;
  return h("span", { class: "fig" }, h("span", { class: "flabel" }, t(key)), " ", h("b", {}, num(value)));
}

export { percent };
