"""The leaderboard as one static HTML page that works from the file system, offline.

Everything is inline: the rows as JSON, a few lines of plain JavaScript (sort by a click on
a column header, filter by model, strategy and a FLOPs budget), and each task's scaling
plot as SVG. No network, no framework: the page opens from ``file://`` in any browser, and
the test suite drives it in headless Chromium.
"""

from __future__ import annotations

import html
import json

from tts_eval.report.leaderboard import COLUMNS, Board, rows, total_flops

NUMERIC = {"rank", "acc %", "problems", "tokens/problem", "FLOPs/problem", "verifier FLOPs",
           "samples"}

SCRIPT = """
const boards = JSON.parse(document.getElementById('data').textContent);
const numeric = new Set(JSON.parse(document.getElementById('numeric').textContent));
const state = {};
function value(row, column) {
  const v = row.cells[column];
  return numeric.has(boards.columns[column]) ? parseFloat(v) : String(v);
}
function render(key) {
  const board = boards.boards.find(b => b.key === key);
  const model = document.getElementById('filter-model').value;
  const strategy = document.getElementById('filter-strategy').value;
  const budget = parseFloat(document.getElementById('filter-budget').value);
  let shown = board.rows.filter(r => (!model || r.model === model)
    && (!strategy || r.strategy === strategy) && (isNaN(budget) || r.flops <= budget));
  const s = state[key];
  if (s) {
    shown = shown.slice().sort((a, b) => {
      const x = value(a, s.column), y = value(b, s.column);
      return (x < y ? -1 : x > y ? 1 : 0) * s.direction;
    });
  }
  const body = document.getElementById('rows-' + key);
  body.innerHTML = '';
  for (const r of shown) {
    const tr = document.createElement('tr');
    if (r.pareto) tr.className = 'pareto';
    for (const cell of r.cells) {
      const td = document.createElement('td');
      td.textContent = cell;
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
  document.getElementById('count-' + key).textContent =
    shown.length + ' of ' + board.rows.length + ' rows';
}
function renderAll() { for (const b of boards.boards) render(b.key); }
for (const th of document.querySelectorAll('th[data-column]')) {
  th.addEventListener('click', () => {
    const key = th.dataset.board, column = parseInt(th.dataset.column);
    const s = state[key];
    state[key] = {column, direction: s && s.column === column ? -s.direction : 1};
    for (const other of document.querySelectorAll('th[data-board="' + key + '"]'))
      other.removeAttribute('aria-sort');
    th.setAttribute('aria-sort', state[key].direction > 0 ? 'ascending' : 'descending');
    render(key);
  });
}
for (const id of ['filter-model', 'filter-strategy', 'filter-budget'])
  for (const event of ['input', 'change'])
    document.getElementById(id).addEventListener(event, renderAll);
renderAll();
"""

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 14px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th { cursor: pointer; background: #f3f3f3; user-select: none; }
th[aria-sort=ascending]::after { content: " \\25B2"; }
th[aria-sort=descending]::after { content: " \\25BC"; }
tr.pareto td { font-weight: 600; }
.filters label { margin-right: 1.5em; }
.plot svg { max-width: 760px; height: auto; }
"""


def _options(values: list[str]) -> str:
    return "".join(f'<option value="{html.escape(v)}">{html.escape(v)}</option>'
                   for v in ["", *sorted(set(values))]).replace('<option value=""></option>',
                                                                '<option value="">all</option>')


def render_page(board_list: list[Board], plots: dict[str, str], title: str) -> str:
    """The page: ``plots`` maps a board key to its inline SVG."""
    data = {"columns": COLUMNS, "boards": []}
    sections, models, strategies = [], [], []
    for board in board_list:
        table_rows = rows(board)
        data["boards"].append({"key": board.key, "rows": [
            {"cells": [str(c) for c in row], "model": row[1], "strategy": row[2],
             "flops": total_flops(entry), "pareto": front}
            for row, entry, front in zip(table_rows, board.entries, board.pareto, strict=True)]})
        models += [row[1] for row in table_rows]
        strategies += [row[2] for row in table_rows]
        header = "".join(f'<th data-board="{board.key}" data-column="{i}">{html.escape(c)}</th>'
                         for i, c in enumerate(COLUMNS))
        sections.append(
            f'<section id="board-{board.key}"><h2>{html.escape(board.task)}</h2>'
            f'<p class="hashes">documents {board.dataset_hash[:12]}, prompts '
            f'{board.prompt_hash[:12]}; <span id="count-{board.key}"></span>; bold rows are '
            'Pareto-optimal (no other row is as accurate for fewer FLOPs)</p>'
            f'<table id="table-{board.key}"><thead><tr>{header}</tr></thead>'
            f'<tbody id="rows-{board.key}"></tbody></table>'
            f'<div class="plot">{plots.get(board.key, "")}</div></section>')
    filters = (
        '<div class="filters">'
        f'<label>model <select id="filter-model">{_options(models)}</select></label>'
        f'<label>strategy <select id="filter-strategy">{_options(strategies)}</select></label>'
        '<label>FLOPs/problem at most <input id="filter-budget" type="number" min="0" '
        'step="any" placeholder="any"></label></div>')
    payload = json.dumps(data, sort_keys=True).replace("</", "<\\/")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{filters}{''.join(sections)}"
        f'<script type="application/json" id="data">{payload}</script>'
        f'<script type="application/json" id="numeric">{json.dumps(sorted(NUMERIC))}</script>'
        f"<script>{SCRIPT}</script></body></html>\n")
