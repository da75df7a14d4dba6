/**
 * The event log: every event of the history, virtualised (only the rows on
 * screen are in the DOM, and past a few million pixels the scrollbar maps to
 * rows proportionally, so a million rows scroll like a thousand). Time,
 * source and type come from the index at once; the data comes with its chunk.
 * The log follows the cursor when another view moves it.
 */
import {useEffect, useLayoutEffect, useMemo, useRef, useState} from 'preact/hooks';
import type {EventChunk, EventLogIndex} from '../../../src/data/types.js';
import {formatTime, lowerBound} from '../draw/time.js';
import type {ViewProps} from '../view-props.js';

export interface LogProps extends ViewProps {
  selectedEvent: number | undefined;
  selectEvent(index: number | undefined): void;
}

const rowH = 20;
const viewH = 440;
/** Tallest scroll area: beyond it browsers stop scrolling precisely (and some cap element heights). */
const maxScrollH = 8_000_000;

/** Which terms a filter holds: comma-separated, each a substring to look for. */
function terms(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

function matching(names: string[], text: string): Uint8Array | undefined {
  const ts = terms(text);
  if (ts.length === 0) return undefined;
  return Uint8Array.from(names, (n) => (ts.some((t) => n.toLowerCase().includes(t)) ? 1 : 0));
}

/** The rows a filter keeps, as event indices in order; undefined when it keeps all. */
function filterRows(log: EventLogIndex, source: string, type: string): Int32Array | undefined {
  const okSrc = matching(log.sources, source);
  const okType = matching(log.types, type);
  if (!okSrc && !okType) return undefined;
  const rows = new Int32Array(log.count);
  let n = 0;
  for (let i = 0; i < log.count; i++) {
    if (okSrc && !okSrc[log.src[i]!]) continue;
    if (okType && !okType[log.type[i]!]) continue;
    rows[n++] = i;
  }
  return rows.subarray(0, n);
}

function dataText(data: unknown): string {
  if (data === undefined) return '';
  const text = JSON.stringify(data);
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
}

export function LogView(props: LogProps) {
  const {data, cursor, source, selectedEvent} = props;
  const log = data.eventLog;
  const [srcFilter, setSrcFilter] = useState('');
  const [typeFilter, setTypeFilter] = useState('');
  const rows = useMemo(() => filterRows(log, srcFilter, typeFilter), [log, srcFilter, typeFilter]);
  const count = rows ? rows.length : log.count;
  const eventAt = (r: number) => (rows ? rows[r]! : r);

  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const visible = Math.ceil(viewH / rowH) + 1;
  const fullH = count * rowH;
  const scaled = fullH > maxScrollH;
  const scrollH = scaled ? maxScrollH : fullH;
  const first = scaled ? Math.round((scrollTop / Math.max(1, scrollH - viewH)) * Math.max(0, count - visible + 2)) : Math.floor(scrollTop / rowH);
  const top = scaled ? scrollTop : first * rowH;

  /** Scrolls so that row r is the third on screen. */
  const scrollToRow = (r: number) => {
    const el = scroller.current;
    if (!el) return;
    const target = Math.max(0, r - 2);
    const top = Math.min(Math.max(0, scrollH - viewH), scaled ? (target / Math.max(1, count - visible + 2)) * (scrollH - viewH) : target * rowH);
    // Not read back: reading scrollTop right after setting it forces a layout of the whole page.
    el.scrollTop = top;
    setScrollTop(top);
  };

  /** The first row at or after t. */
  const rowAt = (t: number) => {
    if (!rows) return lowerBound(log.t, t);
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (log.t[rows[mid]!]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  // Follow the cursor when another view moved it; a click in the log moves it without scrolling.
  const own = useRef<number | undefined>(undefined);
  useLayoutEffect(() => {
    if (own.current === cursor) return;
    own.current = undefined;
    if (selectedEvent !== undefined && log.t[selectedEvent] === cursor) {
      const r = rows ? lowerBound(rows, selectedEvent) : selectedEvent;
      scrollToRow(r);
    } else scrollToRow(rowAt(cursor));
  }, [cursor, selectedEvent, rows]);

  // Chunks of the rows on screen, loaded once each; a failed one says why in its rows.
  const chunks = useRef(new Map<number, EventChunk | Error>());
  const [, setLoaded] = useState(0);
  const shown: number[] = [];
  for (let r = first; r < Math.min(count, first + visible); r++) shown.push(eventAt(r));
  useEffect(() => {
    const wanted = new Set(shown.map((i) => Math.floor(i / log.chunkSize)));
    for (const c of wanted) {
      if (chunks.current.has(c)) continue;
      source.chunk(c).then(
        (chunk) => {
          chunks.current.set(c, chunk);
          setLoaded((v) => v + 1);
        },
        (error: Error) => {
          chunks.current.set(c, error);
          setLoaded((v) => v + 1);
        },
      );
    }
  });
  // Live: the next scenario of `peerlab run --watch` numbers its chunks from 0 again.
  const runId = useRef(data.meta.runId);
  if (runId.current !== data.meta.runId) {
    runId.current = data.meta.runId;
    chunks.current.clear();
  }
  // Live: the chunk at the end grows; forget it so it is asked for again.
  useEffect(() => {
    if (!source.live) return;
    const last = Math.floor((log.count - 1) / log.chunkSize);
    chunks.current.delete(last);
  }, [log.count]);

  const cursorRow = rowAt(cursor);
  const event = (i: number) => {
    const chunk = chunks.current.get(Math.floor(i / log.chunkSize));
    if (!chunk) return {text: '…', title: ''};
    if (chunk instanceof Error) return {text: chunk.message, title: chunk.message};
    const e = chunk.events[i - chunk.index * log.chunkSize];
    const text = e ? dataText(e.data) : '';
    return {text, title: text};
  };

  const selected = selectedEvent !== undefined ? event(selectedEvent) : undefined;
  const selectedFull = (() => {
    if (selectedEvent === undefined) return undefined;
    const chunk = chunks.current.get(Math.floor(selectedEvent / log.chunkSize));
    if (!chunk || chunk instanceof Error) return selected?.text;
    return JSON.stringify(chunk.events[selectedEvent - chunk.index * log.chunkSize], null, 2);
  })();

  return (
    <div class="log">
      <div class="controls">
        <label>
          source{' '}
          <input type="search" list="log-sources" placeholder="e.g. coordinator, peer:alice" value={srcFilter} onInput={(e) => setSrcFilter((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <datalist id="log-sources">
          {log.sources.map((s) => (
            <option value={s} />
          ))}
        </datalist>
        <label>
          type{' '}
          <input type="search" list="log-types" placeholder="e.g. member, step." value={typeFilter} onInput={(e) => setTypeFilter((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <datalist id="log-types">
          {log.types.map((s) => (
            <option value={s} />
          ))}
        </datalist>
        <span class="muted">
          {count.toLocaleString('en')} of {log.count.toLocaleString('en')} events{rows ? ' (filtered; commas separate alternatives)' : ''}
        </span>
      </div>
      <div class="log-head">
        <span class="c-i">#</span>
        <span class="c-t">time</span>
        <span class="c-src">source</span>
        <span class="c-type">type</span>
        <span class="c-data">data</span>
      </div>
      <div class="log-scroll" ref={scroller} style={{height: `${viewH}px`}} onScroll={(e) => setScrollTop((e.currentTarget as HTMLDivElement).scrollTop)}>
        <div style={{height: `${scrollH}px`, position: 'relative'}}>
          <div class="log-rows" style={{top: `${top}px`}}>
            {shown.map((i, k) => {
              const r = first + k;
              const {text, title} = event(i);
              const cls = `log-row${i === selectedEvent ? ' selected' : ''}${r === cursorRow ? ' at-cursor' : ''}`;
              return (
                <div
                  class={cls}
                  key={i}
                  onClick={() => {
                    own.current = log.t[i];
                    props.selectEvent(i);
                    props.setCursor(log.t[i]!);
                    history.replaceState(null, '', `#event-${i}`);
                  }}
                >
                  <a class="c-i" href={`#event-${i}`} title="permalink" onClick={(e) => e.stopPropagation()}>
                    {i}
                  </a>
                  <span class="c-t">{formatTime(log.t[i]!)}</span>
                  <span class="c-src">{log.sources[log.src[i]!]}</span>
                  <span class="c-type">{log.types[log.type[i]!]}</span>
                  <span class="c-data" title={title}>
                    {text}
                  </span>
                </div>
              );
            })}
          </div>
        </div>
      </div>
      {selectedEvent !== undefined && (
        <div class="log-detail">
          <b>Event {selectedEvent}</b> at {formatTime(log.t[selectedEvent] ?? 0)}{' '}
          <button type="button" onClick={() => props.selectEvent(undefined)}>
            close
          </button>
          <pre>{selectedFull}</pre>
        </div>
      )}
    </div>
  );
}
