/** Small pieces of text and legend the four views share, styled inline so they need nothing from the page's stylesheet. */
import type {ComponentChildren} from 'preact';

export const red = '#c62828';

export function Bar(props: {children: ComponentChildren}) {
  return <div style={{display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: '6px 14px', margin: '4px 0 6px', fontSize: '13px'}}>{props.children}</div>;
}

export function Swatch(props: {color: string; label: string; shape?: 'box' | 'line' | 'dash' | 'cross' | 'tick'}) {
  const shape = props.shape ?? 'box';
  const mark =
    shape === 'cross' ? (
      <span style={{color: props.color, fontWeight: 700}}>✕</span>
    ) : shape === 'tick' ? (
      <span style={{display: 'inline-block', width: '2px', height: '12px', background: props.color}} />
    ) : (
      <span
        style={{
          display: 'inline-block',
          width: shape === 'box' ? '12px' : '18px',
          height: shape === 'box' ? '12px' : '0',
          background: shape === 'box' ? props.color : undefined,
          borderTop: shape === 'box' ? undefined : `2px ${shape === 'dash' ? 'dashed' : 'solid'} ${props.color}`,
          verticalAlign: 'middle',
        }}
      />
    );
  return (
    <span style={{display: 'inline-flex', alignItems: 'center', gap: '4px', fontSize: '12px', color: '#333'}}>
      {mark}
      {props.label}
    </span>
  );
}

/** A notice the reader must not miss: what the view left out or drew differently, and why. */
export function Notice(props: {children: ComponentChildren; tone?: 'warn' | 'info'}) {
  const warn = props.tone !== 'info';
  return (
    <div
      role="status"
      style={{
        padding: '4px 8px',
        margin: '4px 0',
        borderLeft: `4px solid ${warn ? '#f3a712' : '#3a86ff'}`,
        background: warn ? '#fff7e6' : '#eef4ff',
        fontSize: '13px',
      }}
    >
      {props.children}
    </div>
  );
}

export function LinkButton(props: {onClick(): void; children: ComponentChildren; title?: string}) {
  return (
    <button
      type="button"
      title={props.title}
      onClick={props.onClick}
      style={{font: 'inherit', fontSize: '12px', padding: '1px 8px', cursor: 'pointer', border: '1px solid #bbb', borderRadius: '3px', background: '#fafafa'}}
    >
      {props.children}
    </button>
  );
}

export function Muted(props: {children: ComponentChildren}) {
  return <span style={{color: '#666', fontSize: '12px'}}>{props.children}</span>;
}
