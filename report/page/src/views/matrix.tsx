/**
 * The membership matrix: what each observer (row) holds of each subject
 * (column) at the cursor, cells coloured by state and outlined where the
 * model expects otherwise; a scrubber and a play button move the cursor.
 * The rumour wave mode follows one subject instead: rows are observers, x is
 * time, and a change spreading through the views reads as a wave.
 */
import {useEffect, useMemo, useRef, useState} from 'preact/hooks';
import {memberStates, type ReportData} from '../../../src/data/types.js';
import {cursorColor, memberStateColors} from '../colors.js';
import {prepare, timeScale, useWidth} from '../draw/canvas.js';
import {absent, expectedAt, holdsLive, MembershipIndex, type Views} from '../draw/membership.js';
import {formatTick, formatTime, lastAtOrBefore, ticks} from '../draw/time.js';
import {Tooltip, useTooltip} from '../draw/tooltip.js';
import type {ViewProps} from '../view-props.js';

const labelW = 110;
const headH = 70;
const stateColors = memberStates.map((s) => memberStateColors[s]);

/**
 * A cell is wrong when the view's member state disagrees with the model's
 * expectation. An observer that is not live and holds no view at all (not
 * started yet, or reset) has nothing to be wrong about.
 */
function isWrong(d: {views: Views; expected: Uint8Array; live: Uint8Array; hasView: Uint8Array; n: number}, cell: number): boolean {
  if (holdsLive(d.views.state[cell]!) === (d.expected[cell] === 1)) return false;
  const o = Math.floor(cell / d.n);
  if (d.live[o] === 1) return true;
  // A process that is not running has no say about itself.
  return d.hasView[o] === 1 && cell % d.n !== o;
}

function viewHolders(views: Views, n: number): Uint8Array {
  const has = new Uint8Array(n);
  for (let cell = 0; cell < n * n; cell++) if (views.state[cell] !== absent) has[Math.floor(cell / n)] = 1;
  return has;
}

function cellSize(width: number, n: number): number {
  return Math.max(4, Math.min(32, Math.floor(560 / Math.max(1, n)), Math.floor((width - labelW - 80) / Math.max(1, n))));
}

function drawMatrix(canvas: HTMLCanvasElement, data: ReportData, index: MembershipIndex, t: number, width: number) {
  const n = data.peers.length;
  const size = cellSize(width, n);
  const w = labelW + n * size + 70;
  const h = headH + n * size + 4;
  const ctx = prepare(canvas, w, h);
  const views = index.at(t);
  const {expected, live} = expectedAt(data.membership, n, t);
  const judged = {views, expected, live, hasView: viewHolders(views, n), n};
  const font = Math.min(12, Math.max(8, size - 3));
  ctx.font = `${font}px system-ui, sans-serif`;
  ctx.textBaseline = 'middle';
  const labels = size >= 9;
  for (let o = 0; o < n; o++) {
    const y = headH + o * size;
    if (labels) {
      ctx.fillStyle = live[o] ? '#1d2430' : '#9aa3ae';
      ctx.textAlign = 'right';
      ctx.fillText(live[o] ? data.peers[o]! : `${data.peers[o]} (down)`, labelW - 6, y + size / 2, labelW - 10);
      ctx.save();
      ctx.translate(labelW + o * size + size / 2, headH - 6);
      ctx.rotate(-Math.PI / 3);
      ctx.textAlign = 'left';
      ctx.fillStyle = live[o] ? '#1d2430' : '#9aa3ae';
      ctx.fillText(data.peers[o]!, 0, 0, headH);
      ctx.restore();
    }
    for (let s = 0; s < n; s++) {
      const x = labelW + s * size;
      const cell = o * n + s;
      const state = views.state[cell]!;
      ctx.fillStyle = stateColors[state]!;
      ctx.globalAlpha = live[o] ? 1 : 0.45;
      ctx.fillRect(x + 0.5, y + 0.5, size - 1, size - 1);
      ctx.globalAlpha = 1;
    }
  }
  // Wrong cells last, so their outlines sit on top of their neighbours.
  ctx.strokeStyle = '#111';
  ctx.lineWidth = size >= 10 ? 2 : 1;
  let wrong = 0;
  const examples: string[] = [];
  for (let o = 0; o < n; o++) {
    for (let s = 0; s < n; s++) {
      const cell = o * n + s;
      if (!isWrong(judged, cell)) continue;
      wrong++;
      if (examples.length < 10) examples.push(`${data.peers[o]} holds ${data.peers[s]} ${memberStates[views.state[cell]!]}, expected ${expected[cell] ? 'alive' : 'not alive'}`);
      const inset = ctx.lineWidth / 2 + 0.5;
      ctx.strokeRect(labelW + s * size + inset, headH + o * size + inset, size - 2 * inset, size - 2 * inset);
    }
  }
  if (!labels) {
    ctx.fillStyle = '#5f6b7a';
    ctx.textAlign = 'left';
    ctx.fillText('observers ↓  subjects →', 4, headH - 10);
  }
  return {wrong, examples, folded: views.folded, size, ...judged};
}

/**
 * What the canvas shows, as text on the canvas element, for tests and tools
 * that cannot read pixels: data-cursor, the instant drawn, and data-cells,
 * one digit per cell, row (observer) by row: the state's index in
 * memberStates, plus 5 when the cell is outlined; data-live, a digit per
 * peer, 1 when its process is live at the cursor; data-grid, where the cells
 * are (CSS pixels: left, top, cell size), so a test can check the pixels too.
 */
function exposeCells(canvas: HTMLCanvasElement, t: number, d: ReturnType<typeof drawMatrix>): void {
  let cells = '';
  for (let cell = 0; cell < d.views.state.length; cell++) {
    const state = d.views.state[cell]!;
    cells += String(state + (isWrong(d, cell) ? 5 : 0));
  }
  canvas.dataset.cells = cells;
  canvas.dataset.live = d.live.join('');
  canvas.dataset.grid = `${labelW},${headH},${d.size}`;
  canvas.dataset.cursor = String(t);
}

function drawWave(canvas: HTMLCanvasElement, data: ReportData, rows: Array<{t: number[]; state: number[]}>, from: number, to: number, cursor: number, width: number) {
  const n = data.peers.length;
  const rowH = n <= 30 ? 14 : Math.max(3, Math.floor(420 / n));
  const h = 22 + n * rowH + 4;
  const ctx = prepare(canvas, width, h);
  const x = timeScale(from, to, labelW, width - labelW - 10);
  ctx.font = '11px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  const {step, values} = ticks(from, to, Math.max(2, Math.floor((width - labelW) / 90)));
  ctx.strokeStyle = '#e3e7ec';
  ctx.fillStyle = '#5f6b7a';
  ctx.textAlign = 'center';
  for (const v of values) {
    const px = Math.round(x.x(v)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(px, 16);
    ctx.lineTo(px, h);
    ctx.stroke();
    ctx.fillText(formatTick(v, step), px, 8);
  }
  rows.forEach((row, o) => {
    const y = 22 + o * rowH;
    if (rowH >= 9) {
      ctx.fillStyle = '#1d2430';
      ctx.textAlign = 'right';
      ctx.fillText(data.peers[o]!, labelW - 6, y + rowH / 2, labelW - 10);
    }
    for (let i = 0; i < row.t.length; i++) {
      const a = Math.max(row.t[i]!, from);
      const b = Math.min(row.t[i + 1] ?? to, to);
      if (b < from || a > to || b < a) continue;
      ctx.fillStyle = stateColors[row.state[i]!]!;
      ctx.fillRect(x.x(a), y + 1, Math.max(1, x.x(b) - x.x(a)), rowH - 2);
    }
  });
  if (cursor >= from && cursor <= to) {
    ctx.fillStyle = cursorColor;
    ctx.fillRect(x.x(cursor) - 1, 14, 2, h - 14);
  }
  return {x, rowH};
}

export function MatrixView(props: ViewProps) {
  const {data, cursor, window: win} = props;
  const n = data.peers.length;
  const index = useMemo(() => new MembershipIndex(data.membership, n), [data.membership, n]);
  const [wrap, width] = useWidth<HTMLDivElement>();
  const canvas = useRef<HTMLCanvasElement>(null);
  const [mode, setMode] = useState<'matrix' | 'wave'>('matrix');
  const [subject, setSubject] = useState(0);
  const [playing, setPlaying] = useState(false);
  const drawn = useRef<ReturnType<typeof drawMatrix> | undefined>(undefined);
  const waveScale = useRef<ReturnType<typeof drawWave> | undefined>(undefined);
  const [summary, setSummary] = useState({wrong: 0, folded: 0, examples: ''});
  const {tip, show, hide} = useTooltip();
  const wave = useMemo(() => (mode === 'wave' ? index.wave(subject) : undefined), [index, mode, subject]);

  useEffect(() => {
    if (!canvas.current || width === 0) return;
    if (mode === 'matrix') {
      drawn.current = drawMatrix(canvas.current, data, index, cursor, width);
      exposeCells(canvas.current, cursor, drawn.current);
      const next = {wrong: drawn.current.wrong, folded: drawn.current.folded, examples: drawn.current.examples.join('\n')};
      if (next.wrong !== summary.wrong || next.folded !== summary.folded || next.examples !== summary.examples) setSummary(next);
    } else if (wave) {
      waveScale.current = drawWave(canvas.current, data, wave, win.from, win.to, cursor, width);
    }
  }, [data, index, cursor, width, mode, wave, win.from, win.to]);

  // Play: the cursor crosses the window in about 20 s, at most 25 frames a second.
  const playState = useRef({cursor, win});
  playState.current = {cursor, win};
  useEffect(() => {
    if (!playing) return;
    let last = performance.now();
    let frame = 0;
    const tick = (now: number) => {
      frame = requestAnimationFrame(tick);
      if (now - last < 40) return;
      const {cursor: c, win: w} = playState.current;
      const next = (c < w.from || c >= w.to ? w.from : c) + ((w.to - w.from) / 20_000) * (now - last);
      last = now;
      if (next >= w.to) {
        props.setCursor(w.to);
        setPlaying(false);
      } else props.setCursor(Math.round(next));
    };
    frame = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame);
  }, [playing]);

  const onMove = (e: MouseEvent) => {
    const rect = canvas.current!.getBoundingClientRect();
    const px = e.clientX - rect.left;
    const py = e.clientY - rect.top;
    if (mode === 'matrix') {
      const d = drawn.current;
      if (!d) return;
      const s = Math.floor((px - labelW) / d.size);
      const o = Math.floor((py - headH) / d.size);
      if (s < 0 || o < 0 || s >= n || o >= n) return hide();
      const cell = o * n + s;
      const state = memberStates[d.views.state[cell]!]!;
      const should = !d.live[o] && !d.hasView[o] ? 'nothing (it holds no view: not started, or reset)' : d.expected[cell] ? 'alive or suspect' : 'not alive';
      const bad = isWrong(d, cell);
      show(e.clientX, e.clientY, `${data.peers[o]} (${d.live[o] ? 'live' : 'not live'}) sees ${data.peers[s]}: ${state}${state === 'absent' ? '' : `, incarnation ${d.views.incarnation[cell]}`}\nthe model expects ${should}${bad ? ' — WRONG' : ''}`);
    } else {
      const w = waveScale.current;
      if (!w || !wave) return;
      const o = Math.floor((py - 22) / w.rowH);
      const row = wave[o];
      if (!row || px < labelW) return hide();
      const t = w.x.t(px);
      let i = -1;
      while (i + 1 < row.t.length && row.t[i + 1]! <= t) i++;
      show(e.clientX, e.clientY, `${data.peers[o]} sees ${data.peers[subject]}: ${i < 0 ? 'absent' : memberStates[row.state[i]!]} at ${formatTime(t)}`);
    }
  };
  const onClick = (e: MouseEvent) => {
    if (mode !== 'wave' || !waveScale.current) return;
    const px = e.clientX - canvas.current!.getBoundingClientRect().left;
    if (px >= labelW) props.setCursor(Math.round(waveScale.current.x.t(px)));
  };

  const end = Math.max(1, data.meta.end);
  return (
    <div class="matrix" ref={wrap}>
      <div class="controls">
        <button type="button" class={mode === 'matrix' ? 'on' : ''} onClick={() => setMode('matrix')}>
          matrix
        </button>
        <button type="button" class={mode === 'wave' ? 'on' : ''} onClick={() => setMode('wave')}>
          rumour wave
        </button>
        {mode === 'wave' && (
          <label>
            subject{' '}
            <select value={subject} onChange={(e) => setSubject(Number((e.currentTarget as HTMLSelectElement).value))}>
              {data.peers.map((p, i) => (
                <option value={i}>{p}</option>
              ))}
            </select>
          </label>
        )}
        <button type="button" onClick={() => setPlaying(!playing)} title="move the cursor through the window">
          {playing ? '❚❚ pause' : '▶ play'}
        </button>
        <input
          class="scrubber"
          type="range"
          min={0}
          max={end}
          step={1}
          value={cursor}
          onInput={(e) => props.setCursor(Number((e.currentTarget as HTMLInputElement).value))}
          aria-label="cursor"
        />
        <span class="mono">{formatTime(cursor)}</span>
      </div>
      {mode === 'matrix' && (
        <p class="matrix-summary">
          {summary.wrong === 0 ? 'Every view is what the model expects' : `${summary.wrong} cell${summary.wrong === 1 ? '' : 's'} not what the model expects`} · {summary.folded.toLocaleString('en')} of{' '}
          {data.membership.changes.t.length.toLocaleString('en')} changes · rows: observers, columns: subjects; a faded row: the observer is not live
        </p>
      )}
      <div class="matrix-body">
        <canvas
          ref={canvas}
          role="img"
          aria-label={mode === 'matrix' ? `each observer's view of each subject at ${formatTime(cursor)}` : `${data.peers[subject] ?? ''} in every observer's view over time`}
          onMouseMove={onMove}
          onMouseLeave={hide}
          onClick={onClick}
        />
        {mode === 'matrix' && <Expectation data={data} t={cursor} examples={summary.examples} wrong={summary.wrong} />}
      </div>
      <Tooltip tip={tip} />
    </div>
  );
}

/** What the model expects at t, in words, and the first wrong cells: the matrix's outlines explained. */
function Expectation({data, t, examples, wrong}: {data: ReportData; t: number; examples: string; wrong: number}) {
  const e = lastAtOrBefore(data.membership.epochs.t, t);
  const names = (ps: number[]) => ps.map((p) => data.peers[p]).join(', ');
  const live = e < 0 ? [] : (data.membership.epochs.live[e] ?? []);
  const sides = e < 0 ? [] : (data.membership.epochs.sides[e] ?? []);
  const down = data.peers.map((_, p) => p).filter((p) => !live.includes(p));
  return (
    <div class="expectation">
      <p>
        <b>Live</b> {live.length === 0 ? 'nobody yet' : down.length === 0 ? `all ${live.length} peers` : live.length > 8 ? `${live.length} peers, all but those below` : names(live)}
        {down.length > 0 && (
          <>
            <br />
            <b>Not live</b> {names(down)}
          </>
        )}
        {sides.length > 1 && (
          <>
            <br />
            <b>Sides</b> {sides.map((side) => `[${names(side)}]`).join(' | ')}
          </>
        )}
      </p>
      {wrong > 0 && (
        <ul>
          {examples.split('\n').map((line) => (
            <li>{line}</li>
          ))}
          {wrong > 10 && <li class="muted">and {wrong - 10} more</li>}
        </ul>
      )}
    </div>
  );
}
