/** The report's head: what ran, how it ended and why, and the key to the colours every view uses. */
import {faultColors, memberStates, type ReportData} from '../../src/data/types.js';
import {lifecycleColors, memberStateColors, statusColors, statusLabels} from './colors.js';

export function Header({data, connection}: {data: ReportData; connection: string | undefined}) {
  const {meta} = data;
  const failure = meta.firstFailure;
  return (
    <header class="head">
      <div class="head-line">
        <span class={`status status-${meta.status}`} style={{background: statusColors[meta.status]}}>
          {meta.live ? 'running' : statusLabels[meta.status]}
        </span>
        <h1>{meta.scenario}</h1>
        <span class="muted" title="the scenario file">
          {meta.file}
        </span>
      </div>
      {meta.message && (!meta.live || meta.status === 'fail') && (
        <p class="head-message">
          {meta.message}
          {failure && meta.message.includes(failure.message) && (
            <>
              {' '}
              <a href={`#${failure.anchor}`}>→ {failure.anchor}</a>
            </>
          )}
        </p>
      )}
      {failure && !meta.message?.includes(failure.message) && (
        <p class="head-failure">
          First failure: <a href={`#${failure.anchor}`}>{failure.anchor}</a> — {failure.message}
        </p>
      )}
      <p class="head-meta muted">
        run <code>{meta.runId}</code> · seed {meta.seed} · {data.peers.length} peers · {data.eventLog.count.toLocaleString('en')} events
        {connection && <> · live: {connection}</>}
      </p>
    </header>
  );
}

function Swatch({color, label, shape}: {color: string; label: string; shape?: 'band' | 'box' | 'marker'}) {
  return (
    <span class="swatch">
      <i class={`swatch-${shape ?? 'box'}`} style={{background: color}} />
      {label}
    </span>
  );
}

export function Legend() {
  return (
    <div class="legend">
      <div>
        <b>Steps, checks</b>
        {(['pass', 'fail', 'unknown'] as const).map((s) => (
          <Swatch color={statusColors[s]} label={statusLabels[s]} />
        ))}
      </div>
      <div>
        <b>Faults</b>
        {Object.entries(faultColors).map(([kind, color]) => (
          <Swatch color={color} label={kind} shape="band" />
        ))}
      </div>
      <div>
        <b>Peers</b>
        {Object.entries(lifecycleColors).map(([state, color]) => (
          <Swatch color={color} label={state} />
        ))}
      </div>
      <div>
        <b>Views</b>
        {memberStates.map((s) => (
          <Swatch color={memberStateColors[s]} label={s} />
        ))}
        <span class="swatch">
          <i class="swatch-box swatch-wrong" />
          wrong (not what the model expects)
        </span>
      </div>
    </div>
  );
}
