/**
 * The message sequence diagram: one lifeline per peer, time left to right
 * over the brushed window, an arrow from each send to each delivery. A
 * window with more arrows than a reader can follow becomes a density map,
 * and the view says so; picking one message shows only how it spread.
 */
import {useCallback, useMemo, useRef, useState} from 'preact/hooks';
import type {ViewProps} from '../view-props.js';
import {Canvas} from './common/canvas.js';
import {fmtAt, fmtCount, fmtDur, plural} from './common/format.js';
import {messageIndex} from './common/message-index.js';
import {tOf} from './common/time-strip.js';
import {Bar, LinkButton, Muted, Notice, Swatch, red} from './common/ui.js';
import {arrowColors, drawArrows, drawDensity, drawLifelines, seqCursor, hitTest, type Hit} from './sequence/draw.js';
import {seqLayout} from './sequence/layout.js';
import {maxArrows, messageSpan, selectMessageArrows, selectWindow, type Selection} from './sequence/select.js';

export function SequenceView(props: ViewProps) {
  const {data, window: win, cursor, selectedMessage} = props;
  const idx = useMemo(() => messageIndex(data), [data]);
  const nPeers = data.peers.length;
  const single = selectedMessage !== undefined && selectedMessage >= 0 && selectedMessage < data.messages.sent.id.length;
  const sel: Selection = useMemo(
    () => (single ? selectMessageArrows(data, idx, selectedMessage!) : selectWindow(data, idx, win.from, win.to)),
    [data, idx, single, selectedMessage, win.from, win.to],
  );
  // One message is drawn over its own spread when the window does not hold all of it.
  const span = useMemo(() => (single ? messageSpan(data, idx, selectedMessage!) : undefined), [data, idx, single, selectedMessage]);
  const own = span !== undefined && (span.from < win.from || span.to > win.to);
  const range = own ? {from: span.from - Math.max(20, (span.to - span.from) * 0.08), to: span.to + Math.max(20, (span.to - span.from) * 0.08)} : win;
  const hits = useRef<Hit | undefined>(undefined);
  const density = useRef<{bucketMs: number; max: number} | undefined>(undefined);
  const [hover, setHover] = useState<string | undefined>(undefined);
  const [pick, setPick] = useState('');
  const [pickError, setPickError] = useState<string | undefined>(undefined);
  const [, setDrawn] = useState(0);

  const height = seqLayout(800, nPeers, range.from, range.to).height;
  const draw = useCallback(
    (ctx: CanvasRenderingContext2D, width: number) => {
      const l = seqLayout(width, nPeers, range.from, range.to);
      drawLifelines(ctx, data, l, width);
      if (sel.arrows) {
        hits.current = drawArrows(ctx, data, idx, l, sel, single);
        density.current = undefined;
      } else {
        hits.current = undefined;
        const d = drawDensity(ctx, idx, l, sel);
        if (density.current?.max !== d.max || density.current.bucketMs !== d.bucketMs) {
          density.current = d;
          setDrawn((n) => n + 1);
        }
      }
    },
    [data, idx, sel, single, range.from, range.to, nPeers],
  );
  const cursorAt = (width: number) => seqCursor(seqLayout(width, nPeers, range.from, range.to), cursor);

  const describe = (k: number): string => {
    const h = hits.current!;
    const what = h.what[k]!;
    const {sent, deliveries, unsent} = data.messages;
    if (what <= -2) {
      const u = unsent[-2 - what]!;
      return `${u.id}: delivered at ${data.peers[u.peer]} at ${fmtAt(u.t)}, never sent`;
    }
    const m = h.msg[k]!;
    const head = `${sent.id[m]} from ${data.peers[sent.sender[m]!]}, sent ${fmtAt(sent.t[m]!)}`;
    if (what === -1) return `${head}: never delivered at this receiver (missing)`;
    const flag = deliveries.flag[what] === 1 ? ', duplicate' : deliveries.flag[what] === 2 ? ', out of order' : '';
    const r = idx.lateAt(m, deliveries.peer[what]!);
    const late = data.messages.missingAtAwait;
    if (r >= 0 && deliveries.t[what]! > late.t[r]!) return `${head} → ${data.peers[deliveries.peer[what]!]} at ${fmtAt(deliveries.t[what]!)} (${fmtDur(deliveries.t[what]! - sent.t[m]!)})${flag}, late: missing when step ${late.step[r]} was judged at ${fmtAt(late.t[r]!)}`;
    return `${head} → ${data.peers[deliveries.peer[what]!]} at ${fmtAt(deliveries.t[what]!)} (${fmtDur(deliveries.t[what]! - sent.t[m]!)})${flag}`;
  };

  const onClick = (x: number, y: number, width: number) => {
    const k = hitTest(hits.current, x, y);
    if (k >= 0 && hits.current!.msg[k]! >= 0) {
      props.selectMessage(hits.current!.msg[k]!);
      return;
    }
    const l = seqLayout(width, nPeers, range.from, range.to);
    if (x >= l.scale.x0 && x <= l.scale.x1) props.setCursor(Math.round(tOf(l.scale, x)));
  };
  const onBrush = (x0: number, x1: number, width: number) => {
    const l = seqLayout(width, nPeers, range.from, range.to);
    const a = Math.max(l.scale.x0, x0);
    const b = Math.min(l.scale.x1, x1);
    if (b - a > 4) props.setWindow({from: tOf(l.scale, a), to: tOf(l.scale, b)});
  };
  const onMove = (x: number, y: number) => {
    const k = hitTest(hits.current, x, y);
    setHover(k >= 0 ? describe(k) : undefined);
  };
  const submitPick = (ev: Event) => {
    ev.preventDefault();
    const id = pick.trim();
    if (!id) return;
    const m = idx.idMap().get(id);
    if (m === undefined) setPickError(`no message "${id}" was sent`);
    else {
      setPickError(undefined);
      props.selectMessage(m);
    }
  };

  const c = sel.arrows?.counts;
  let header;
  if (single) {
    const m = selectedMessage!;
    const {sent, deliveries} = data.messages;
    const t0 = sent.t[m]!;
    let last = t0;
    for (const d of sel.arrows!.deliveries) last = Math.max(last, deliveries.t[d]!);
    const outside = own;
    header = (
      <Notice tone="info">
        Only message <b>{sent.id[m]}</b> from {data.peers[sent.sender[m]!]}, sent at {fmtAt(t0)}: {plural(c!.ok + c!.duplicate + c!.outOfOrder, 'delivery', 'deliveries')}
        {c!.missing > 0 && <span style={{color: red}}>, {fmtCount(c!.missing)} missing</span>}
        {c!.duplicate > 0 && `, ${fmtCount(c!.duplicate)} duplicate`}
        {c!.outOfOrder > 0 && `, ${fmtCount(c!.outOfOrder)} out of order`}; last delivery {fmtDur(last - t0)} after the send.{' '}
        {outside && (
          <>
            <b>Drawn over its own time, {fmtAt(range.from)} – {fmtAt(range.to)}</b>: the window does not hold all of it.{' '}
            <LinkButton onClick={() => props.setWindow(range)}>make it the window</LinkButton>{' '}
          </>
        )}
        <LinkButton onClick={() => props.selectMessage(undefined)}>show all messages</LinkButton>
      </Notice>
    );
  } else if (data.messages.sent.id.length === 0 && data.messages.unsent.length === 0) {
    header = <Notice tone="info">No message was sent in this run.</Notice>;
  } else if (!sel.arrows) {
    const d = density.current;
    header = (
      <Notice>
        <b>density view: {fmtCount(sel.total)} arrows in this window</b>; brush a narrower window to see arrows (at most {fmtCount(maxArrows)}): drag across the diagram or the overview.
        {d && (
          <>
            {' '}Each cell counts deliveries at one peer in {fmtDur(d.bucketMs)}; darkest = {fmtCount(d.max)}.
          </>
        )}
      </Notice>
    );
  } else {
    header = (
      <Muted>
        {fmtAt(win.from)} – {fmtAt(win.to)}: {plural(c!.ok + c!.duplicate + c!.outOfOrder, 'delivery', 'deliveries')}
        {c!.duplicate > 0 && `, ${fmtCount(c!.duplicate)} duplicate`}
        {c!.outOfOrder > 0 && `, ${fmtCount(c!.outOfOrder)} out of order`}
        {c!.missing > 0 && <span style={{color: red}}>, {fmtCount(c!.missing)} missing</span>}
        {c!.unsent > 0 && <span style={{color: red}}>, {fmtCount(c!.unsent)} never sent</span>}. Click an arrow to follow its message; drag across to narrow the window.
      </Muted>
    );
  }

  return (
    <div class="view-sequence">
      <Bar>
        <form onSubmit={submitPick} style={{display: 'inline-flex', gap: '4px', alignItems: 'center'}}>
          <label style={{fontSize: '12px'}}>
            message id{' '}
            <input value={pick} onInput={(e) => setPick((e.currentTarget as HTMLInputElement).value)} placeholder="e.g. alice-17" size={14} style={{font: 'inherit', fontSize: '12px'}} />
          </label>
          <button type="submit" style={{font: 'inherit', fontSize: '12px', padding: '1px 8px', cursor: 'pointer'}}>
            show
          </button>
        </form>
        {pickError && <span style={{color: red, fontSize: '12px'}}>{pickError}</span>}
        <Swatch color={arrowColors.ok} label="delivered" shape="line" />
        <Swatch color={arrowColors.duplicate} label="duplicate ■" shape="line" />
        <Swatch color={arrowColors.outOfOrder} label="out of order ◆" shape="line" />
        <Swatch color={arrowColors.missing} label="missing" shape="cross" />
        <Swatch color={arrowColors.late} label="missing at a failed await's deadline" shape="cross" />
        <Swatch color={arrowColors.unsent} label="never sent ○" shape="line" />
        <Swatch color="rgba(141,153,174,0.6)" label="paused" />
        <Swatch color="rgba(40,40,40,0.45)" label="down" />
        <Swatch color="rgba(106,153,78,0.35)" label="left" />
        <Muted>faults shade the peers they hit; partition sides are lettered</Muted>
      </Bar>
      {header}
      <Canvas
        data={{mode: sel.arrows ? 'arrows' : 'density', arrows: sel.total, from: range.from, to: range.to, message: single ? data.messages.sent.id[selectedMessage!]! : ''}}
        label={
          sel.arrows
            ? `message sequence diagram, ${fmtAt(range.from)} to ${fmtAt(range.to)}: an arrow from each send to each delivery, ${fmtCount(sel.total)} in all`
            : `deliveries per peer over time, ${fmtAt(range.from)} to ${fmtAt(range.to)}, as a density map of ${fmtCount(sel.total)} arrows`
        }
        height={height}
        draw={draw}
        cursor={cursorAt}
        onClick={onClick}
        onBrush={onBrush} onMove={onMove} onLeave={() => setHover(undefined)} />
      <div style={{minHeight: '18px', fontSize: '12px', color: '#333'}}>{hover ?? ' '}</div>
    </div>
  );
}
