/**
 * The live view's controls, shown only when the server said this page holds
 * the run token ('hello' with access 'control'): they drive a peer through the
 * coordinator's REST API, on the origin that served the page, with that token.
 * The static report never has them: it makes no request at all.
 */
import {useState} from 'preact/hooks';

type Action = {label: string; method: 'DELETE' | 'POST'; path(peer: string): string; body?(text: string): unknown; needsText?: boolean};

const actions: Action[] = [
  {label: 'kill', method: 'DELETE', path: (p) => `/api/peers/${encodeURIComponent(p)}?signal=SIGKILL`},
  {label: 'stop', method: 'DELETE', path: (p) => `/api/peers/${encodeURIComponent(p)}`},
  {label: 'leave', method: 'POST', path: (p) => `/api/peers/${encodeURIComponent(p)}/commands`, body: () => ({name: 'leave'})},
  {label: 'send', method: 'POST', path: (p) => `/api/peers/${encodeURIComponent(p)}/commands`, body: (text) => ({name: 'send', args: {text}}), needsText: true},
];

export function LiveControls({peers, token}: {peers: string[]; token: string}) {
  const [peer, setPeer] = useState(peers[0] ?? '');
  const [text, setText] = useState('hello');
  const [reply, setReply] = useState('');
  const [busy, setBusy] = useState(false);
  const run = async (action: Action) => {
    if (!peer) return;
    setBusy(true);
    setReply(`${action.label} ${peer}…`);
    try {
      const response = await fetch(action.path(peer), {
        method: action.method,
        headers: {authorization: `Bearer ${token}`, ...(action.body ? {'content-type': 'application/json'} : {})},
        ...(action.body ? {body: JSON.stringify(action.body(text))} : {}),
      });
      const body = (await response.json().catch(() => ({}))) as {error?: {message?: string}; text?: string};
      setReply(response.ok ? `${action.label} ${peer}: ${body.text ?? 'done'}` : `${action.label} ${peer} failed: ${body.error?.message ?? response.statusText}`);
    } catch (error) {
      setReply(`${action.label} ${peer} failed: ${(error as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="live-controls">
      <b>Control</b>
      <select value={peer} onChange={(e) => setPeer((e.currentTarget as HTMLSelectElement).value)} aria-label="peer">
        {peers.map((p) => (
          <option value={p}>{p}</option>
        ))}
      </select>
      {actions
        .filter((a) => !a.needsText)
        .map((a) => (
          <button type="button" disabled={busy || !peer} onClick={() => void run(a)}>
            {a.label}
          </button>
        ))}
      <input type="text" value={text} onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)} aria-label="message" />
      <button type="button" disabled={busy || !peer || !text} onClick={() => void run(actions[3]!)}>
        send
      </button>
      <span class="muted">{reply}</span>
    </div>
  );
}
