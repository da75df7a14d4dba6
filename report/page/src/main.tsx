/**
 * The page's entry. A static report's data.js has set window.peerlabReport
 * before this script runs; without it this is the live view, which gets the
 * report from the coordinator that served it (socket.io, '/view'), with the
 * token from the URL's ?token= when there is one.
 */
import {render} from 'preact';
import {reportGlobal, type ReportData} from '../../src/data/types.js';
import {App, scrollToTarget} from './app.js';
import {initialState, parseHash, targetElementId} from './hash.js';
import {liveSource} from './source/live.js';
import {staticSource} from './source/static.js';
import {Store} from './store.js';
import type {DataSource} from './view-props.js';

function root(): HTMLElement {
  let el = document.getElementById('app');
  if (!el) {
    el = document.createElement('div');
    el.id = 'app';
    document.body.appendChild(el);
  }
  return el;
}

function start(data: ReportData, source: DataSource, connection?: (l: (s: string) => void) => void, token?: string): void {
  const store = new Store(initialState(data, location.hash));
  const el = root();
  el.textContent = '';
  render(<App store={store} source={source} initial={data} connection={connection} token={token} />, el);
  const target = parseHash(location.hash);
  const anchor = target ? targetElementId(target) : data.meta.firstFailure?.anchor;
  if (anchor) scrollToTarget(anchor);
}

// An icon of its own, so the browser asks no server for /favicon.ico (a 404 in the live view's console).
if (!document.querySelector('link[rel~="icon"]')) {
  const icon = document.createElement('link');
  icon.rel = 'icon';
  icon.href = 'data:,';
  document.head.appendChild(icon);
}

const given = (window as unknown as Record<string, ReportData | undefined>)[reportGlobal];
if (given) {
  start(given, staticSource(given));
} else {
  const token = new URLSearchParams(location.search).get('token') ?? undefined;
  const source = liveSource(token);
  const el = root();
  el.innerHTML = '<p class="waiting">Connecting to the run…</p>';
  source.onStatus((s) => {
    const waiting = el.querySelector('.waiting');
    if (waiting) waiting.textContent = s.startsWith('connected') ? 'Connected, waiting for the report…' : `Live view: ${s}`;
  });
  const unsubscribe = source.subscribe((data) => {
    unsubscribe();
    start(data, source, source.onStatus, token);
  });
}
