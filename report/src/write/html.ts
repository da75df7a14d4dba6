/**
 * The report's HTML shells: the static one (data.js before app.js, no
 * network at all) and the live one (no data.js: the page connects back to
 * the server that served it). Both carry a summary for a reader without
 * scripts, with the anchors failure messages link to.
 */
import type {ReportData} from '../data/types.js';

const statusWords = {pass: 'passed', fail: 'failed', unknown: 'unknown'} as const;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * No network from a report opened from disk: scripts and styles from its own
 * folder only, images only as data: URLs, no connection anywhere. (Chromium
 * counts sibling file:// scripts as 'self'.)
 */
export const staticPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'";
/** The live view may also talk to the server that served it (its socket.io WebSocket and the REST API). */
export const livePolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'";

/**
 * The head every page of a report has: its policy, no referrer, and `extra`
 * (its stylesheet) last. The empty data: icon keeps the browser from asking
 * for /favicon.ico, which the live view's server does not have (a 404 in the
 * console).
 */
export function documentHead(title: string, policy: string, extra: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${policy}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
${extra}
</head>`;
}

function head(title: string, policy: string, assetQuery: string): string {
  return documentHead(title, policy, `<link rel="stylesheet" href="app.css${assetQuery}">`);
}

/** What a reader without scripts sees: the verdict, why, and every step with its anchor. */
function summary(data: ReportData): string {
  const {meta} = data;
  const steps = data.timeline.steps
    .map((s) => `<li id="${escapeHtml(s.anchor)}" class="status-${s.status}">${'&nbsp;'.repeat(s.depth * 2)}${escapeHtml(s.path)} ${escapeHtml(s.title)}: ${statusWords[s.status]}${s.message ? ` — ${escapeHtml(s.message)}` : ''}</li>`)
    .join('\n');
  return `<noscript>
<h1>${escapeHtml(meta.scenario)}: ${statusWords[meta.status]}</h1>
${meta.message ? `<p>${escapeHtml(meta.message)}</p>` : ''}
<ol>
${steps}
</ol>
<p>The interactive report needs JavaScript.</p>
</noscript>`;
}

export function staticIndexHtml(data: ReportData): string {
  const title = `${data.meta.scenario} ${statusWords[data.meta.status]} — peerlab report`;
  return `${head(title, staticPolicy, '')}
<body>
<div id="app"></div>
${summary(data)}
<script src="data.js"></script>
<script src="app.js"></script>
</body>
</html>
`;
}

/**
 * The live view's page. `assetQuery` carries the token to the page's own
 * files when the server asks for it on every request (beyond loopback).
 */
export function liveIndexHtml(options: {assetQuery?: string} = {}): string {
  const query = options.assetQuery ?? '';
  return `${head('peerlab live view', livePolicy, query)}
<body>
<div id="app"></div>
<noscript><p>The live view needs JavaScript.</p></noscript>
<script src="app.js${query}"></script>
</body>
</html>
`;
}
