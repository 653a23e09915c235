// The review station page: one card per field, keyboard first; every answer is saved at once.
"use strict";
let fields = [];
let current = 0;
const answeredOrder = [];  // fields answered in this tab, latest last: Up reopens them in turn

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

async function call(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
  };
  const response = await fetch(path, options);
  const data = await response.json();
  if (!response.ok) throw new Error(typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail));
  return data;
}

function show(state) {
  fields = state.fields;
  $("run").textContent = state.run;
  $("progress").textContent = `${state.answered} of ${state.total} fields`;
  $("bar").max = Math.max(1, state.total);
  $("bar").value = state.answered;
  $("command").textContent = state.apply_command;
  $("done").style.display = state.total && state.answered === state.total ? "block" : "none";
  const select = $("document");
  if (!select.options.length) for (const d of state.documents) select.append(el("option", {value: d}, d));
}

function card(item, i) {
  const label = {pending: "to review", accepted: "accepted", corrected: "corrected", unreadable: "unreadable on paper"}[item.state];
  const title = el("h2", {}, `${item.document} · page ${item.page} · `, el("b", {}, item.field),
                   el("span", {class: `badge ${item.state}`}, label));
  const node = el("div", {class: "field" + (i === current ? " current" : ""), "data-field": item.field,
                          "data-document": item.document, "data-page": String(item.page),
                          "data-state": item.state}, title);
  if (item.image) {
    const image = el("img", {class: "page", src: item.image, alt: `${item.field} on the page`});
    // A paragraph's image is tall: shown only as high as a line's, its writing is too small to
    // read, so the current card shows it as large as the window allows.
    image.addEventListener("load", () => image.classList.toggle("tall", image.naturalHeight > 0.4 * image.naturalWidth));
    node.append(image);
  }
  node.append(el("div", {class: "reason"}, `read as “${item.value}”` + (item.reason ? ` — ${item.reason}` : "")));
  if (item.uncertain.length) {
    const chars = el("div", {class: "chars"});
    for (const c of item.uncertain) {
      const top = c.top.map(([a, p]) => `${a} ${Math.round(100 * p)}%`).join(" · ");
      chars.append(el("span", {class: "char"}, el("img", {src: c.crop, alt: `character ${c.index}`}), `#${c.index}: ${top}`));
    }
    node.append(chars);
  }
  const input = el("input", {class: "value", autocomplete: "off", spellcheck: "false", "aria-label": `value of ${item.field}`});
  input.value = item.state === "corrected" ? item.correction : item.value;
  input.addEventListener("keydown", (event) => onKey(event, i, input));
  let fresh = false;
  input.addEventListener("focus", () => { if (current !== i) { current = i; mark(); } input.select(); fresh = true; });
  // The click that focused the field would put the caret where it landed: keep the value
  // selected, so that typing replaces it (a second click places the caret to edit).
  input.addEventListener("mouseup", (event) => { if (fresh) event.preventDefault(); fresh = false; });
  node.append(input, el("div", {class: "msg"}));
  return node;
}

function mark() {
  const cards = $("list").children;
  for (let k = 0; k < cards.length; k++) cards[k].classList.toggle("current", k === current);
}

function render() {
  const list = $("list");
  list.replaceChildren(...fields.map(card));
  focusCurrent();
}

function focusCurrent() {
  mark();
  const node = $("list").children[current];
  if (node) {
    const input = node.querySelector("input");
    input.focus();
    input.select();  // typing replaces the value read
    node.scrollIntoView({block: "nearest"});
  }
}

function nextPending(from) {
  for (let k = 1; k <= fields.length; k++) {
    const j = (from + k) % fields.length;
    if (fields[j].state === "pending") return j;
  }
  return Math.min(from + 1, fields.length - 1);
}

async function answer(i, action, value) {
  const item = fields[i];
  const msg = $("list").children[i].querySelector(".msg");
  try {
    const reply = await call("/api/answer", {document: item.document, page: item.page, field: item.field, action, value});
    show(reply);
    if (!reply.saved) {
      msg.textContent = "Not saved: " + reply.problems.join("; ");
      return;
    }
    answeredOrder.push(i);
    current = nextPending(i);
    render();
  } catch (error) {
    msg.textContent = "Not saved: " + error.message;
  }
}

function onKey(event, i, input) {
  const item = fields[i];
  if (event.key === "Enter") {
    event.preventDefault();
    const value = input.value.trim();
    answer(i, value === item.value ? "accept" : "correct", value);
  } else if (event.key === "Escape") {
    event.preventDefault();
    answer(i, "unreadable", "");
  } else if (event.key === "ArrowUp") {
    event.preventDefault();
    const previous = answeredOrder.length ? answeredOrder.pop() : i - 1;
    if (previous >= 0) { current = previous; focusCurrent(); }
  } else if (event.key === "ArrowDown") {
    event.preventDefault();
    if (i < fields.length - 1) { current = i + 1; focusCurrent(); }
  }
}

async function listAll() {
  const document_ = $("document").value;
  const rows = await call(`/api/fields?document=${encodeURIComponent(document_)}`);
  const table = $("all-fields");
  table.replaceChildren(el("tr", {}, el("th", {}, "page"), el("th", {}, "field"), el("th", {}, "value"), el("th", {}, "status"), el("th", {}, "")));
  for (const r of rows) {
    const button = el("button", {type: "button"}, r.in_review ? "in review" : "review this field");
    button.disabled = r.in_review;
    button.addEventListener("click", async () => {
      const reply = await call("/api/pull", {document: document_, page: r.page, field: r.field});
      show(reply);
      current = fields.findIndex((f) => f.document === document_ && f.page === r.page && f.field === r.field);
      render();
      listAll();
    });
    table.append(el("tr", {}, el("td", {}, String(r.page)), el("td", {}, r.field), el("td", {}, r.value), el("td", {}, r.status), el("td", {}, button)));
  }
}

async function applyReview() {
  const report = $("report");
  report.style.display = "block";
  report.textContent = "applying…";
  report.scrollIntoView({block: "start"});
  try {
    report.textContent = (await call("/api/apply", {})).report;
    report.scrollIntoView({block: "start"});
  } catch (error) {
    report.textContent = "Not applied: " + error.message;
  }
}

async function start() {
  show(await call("/api/state"));
  current = Math.max(0, fields.findIndex((f) => f.state === "pending"));
  render();
  $("list-all").addEventListener("click", listAll);
  $("apply").addEventListener("click", applyReview);
}

start();
