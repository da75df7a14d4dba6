/**
 * The page: a header, then the seven views stacked, each a section with its
 * own id (the anchors #overview ... #log), all sharing one store. A toolbar
 * stays on screen with the cursor and the window, whichever view is read.
 */
import type {ComponentType} from 'preact';
import {useEffect, useMemo, useState} from 'preact/hooks';
import type {DeferredBlock, ReportData} from '../../src/data/types.js';
import {formatTime} from './draw/time.js';
import {LiveControls} from './controls.js';
import {Header, Legend} from './header.js';
import {initialState, parseHash, stateForTarget, targetElementId, wholeRun} from './hash.js';
import {Section} from './section.js';
import type {PageState, Store} from './store.js';
import type {DataSource, TimeWindow, ViewProps} from './view-props.js';
import {ConvergenceView} from './views/convergence.js';
import {DeliveryView} from './views/delivery.js';
import {DetectionView} from './views/detection.js';
import {LogView} from './views/log.js';
import {MatrixView} from './views/matrix.js';
import {OverviewView} from './views/overview.js';
import {SequenceView} from './views/sequence.js';

interface Section {
  id: string;
  title: string;
  about: string;
  view: ComponentType<ViewProps>;
  /** The deferred block it draws from: until it has loaded, the view waits (empty columns would read as "no messages"). */
  needs?: DeferredBlock;
}

const sections: Section[] = [
  {id: 'overview', title: 'Overview', about: 'Steps, faults and peers over the whole run. Drag to choose the window every view shows, click to move the cursor, double-click for the whole run.', view: OverviewView},
  {id: 'matrix', title: 'Membership', about: 'Each observer’s view of each subject at the cursor; outlined cells are not what the model expects.', view: MatrixView},
  {id: 'convergence', title: 'Convergence', about: 'How fast the views took in each change, against the epidemic model.', view: ConvergenceView},
  {id: 'detection', title: 'Failure detection', about: 'When each observer suspected and declared a fault, against the model’s bound.', view: DetectionView},
  {id: 'sequence', title: 'Messages', about: 'Sends and deliveries between peers in the window.', view: SequenceView, needs: 'deliveries'},
  {id: 'delivery', title: 'Delivery', about: 'Which peer delivered which message: duplicates, reorderings, losses.', view: DeliveryView, needs: 'deliveries'},
];

export function App({store, source, initial, connection, token}: {store: Store; source: DataSource; initial: ReportData; connection?: (listener: (s: string) => void) => void; token?: string}) {
  const [state, setState] = useState<PageState>(store.state);
  const [data, setData] = useState<ReportData>(initial);
  const [status, setStatus] = useState<string | undefined>(source.live ? 'connected' : undefined);

  useEffect(() => store.subscribe(setState), [store]);
  useEffect(() => connection?.(setStatus), [connection]);

  // Live: a window that reached the end of the run keeps following it as the run goes on.
  useEffect(
    () =>
      source.subscribe((next) => {
        setData((previous) => {
          // The next scenario of `peerlab run --watch`: the window, cursor and selections named the previous run's times and rows.
          if (next.meta.runId !== previous.meta.runId) {
            store.set(initialState(next, ''));
            return next;
          }
          const {window: w, cursor} = store.state;
          const atEnd = previous.meta.end - 1;
          const change: Partial<PageState> = {};
          if (w.to >= atEnd) change.window = {from: w.from, to: Math.max(next.meta.end, w.from + 1)};
          // A cursor at the end stays there, so the matrix shows the views as they are now.
          if (cursor >= atEnd) change.cursor = next.meta.end;
          if (change.window || change.cursor !== undefined) store.set(change);
          // A log permalink (#event-<i>) names a row the data did not have until the event log came.
          const target = previous.meta.deferred?.blocks.includes('eventLog') && !next.meta.deferred?.blocks.includes('eventLog') ? parseHash(location.hash) : undefined;
          if (target?.kind === 'event') {
            const selected = stateForTarget(next, target, store.state);
            if (selected) {
              store.set(selected);
              scrollToTarget(targetElementId(target));
            }
          }
          return next;
        });
      }),
    [source, store],
  );

  useEffect(() => {
    const onHash = () => {
      const target = parseHash(location.hash);
      if (!target) return;
      const change = stateForTarget(data, target, store.state);
      if (change) store.set(change);
      scrollToTarget(targetElementId(target));
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [data, store]);

  const actions = useMemo(
    () => ({
      setCursor: (t: number) => store.set({cursor: t}),
      setWindow: (w: TimeWindow) => store.set({window: w}),
      selectMessage: (i: number | undefined) => store.set({selectedMessage: i}),
      selectEvent: (i: number | undefined) => store.set({selectedEvent: i}),
    }),
    [store],
  );

  const props: ViewProps = {
    data,
    cursor: state.cursor,
    window: state.window,
    selectedMessage: state.selectedMessage,
    source,
    setCursor: actions.setCursor,
    setWindow: actions.setWindow,
    selectMessage: actions.selectMessage,
  };

  const whole = wholeRun(data);
  const isWhole = state.window.from <= whole.from && state.window.to >= whole.to;
  return (
    <div class="page">
      <Header data={data} connection={status} />
      {source.live && token && status?.endsWith('control') && <LiveControls peers={data.peers} token={token} />}
      <Legend />
      <div class="toolbar">
        <span>
          cursor <b>{formatTime(state.cursor)}</b>
        </span>
        <span>
          window <b>{formatTime(state.window.from)}</b> – <b>{formatTime(state.window.to)}</b>
        </span>
        <button type="button" disabled={isWhole} onClick={() => actions.setWindow(whole)}>
          whole run
        </button>
        <nav>
          {['overview', 'matrix', 'convergence', 'detection', 'sequence', 'delivery', 'log'].map((id) => (
            <a href={`#${id}`} onClick={(e) => (e.preventDefault(), scrollToTarget(id))}>
              {id}
            </a>
          ))}
        </nav>
      </div>
      {sections.map(({id, title, about, view: View, needs}) => (
        <Section id={id} title={title} about={about} key={id}>
          {needs && data.meta.deferred?.blocks.includes(needs) ? <Loading what={needs} /> : <View {...props} />}
        </Section>
      ))}
      <Section id="log" title="Event log" about="Every event of the history. Click a row to move the cursor; the log follows the cursor.">
        {data.meta.deferred?.blocks.includes('eventLog') ? <Loading what="eventLog" /> : <LogView {...props} selectedEvent={state.selectedEvent} selectEvent={actions.selectEvent} />}
      </Section>
    </div>
  );
}

function Loading({what}: {what: DeferredBlock}) {
  return <p class="bulk-loading muted">Loading {what === 'deliveries' ? 'the deliveries' : 'the event log'}…</p>;
}

/** Brings an element into view once the views have drawn the state that points at it. */
export function scrollToTarget(id: string): void {
  // A step's or check's row exists once the overview has been drawn: until then, its section.
  const target = () => document.getElementById(id) ?? (/^(step|invariant)-/.test(id) ? document.getElementById('overview') : null);
  // Where our last scroll left the page. A page found elsewhere was moved by someone else (the reader, a test, a link):
  // scrolling it back then yanked a reader who had scrolled to a view in the first 300 ms back to the first failure.
  let left: number | undefined;
  const scroll = () => {
    if (left !== undefined && Math.abs(window.scrollY - left) > 1) return;
    target()?.scrollIntoView({block: 'center'});
    left = window.scrollY;
  };
  // Again once the views that came into sight have drawn and taken their height.
  requestAnimationFrame(() => requestAnimationFrame(() => {
    scroll();
    setTimeout(() => requestAnimationFrame(scroll), 50);
    setTimeout(() => requestAnimationFrame(scroll), 300);
  }));
}
