/**
 * What each peer has told us about its own view, folded from its event
 * stream: the members it sees and their states, and the messages it has
 * delivered. A read model for the live table and the REST API.
 */
import type {PeerEvent} from '@peerlab/client-agent/protocol';

export interface PeerView {
  members: Map<string, string>;
  delivered: number;
  sent: number;
  lastEventAt: number;
}

export class PeerViews {
  readonly #views = new Map<string, PeerView>();

  apply(peer: string, events: readonly PeerEvent[]): void {
    let view = this.#views.get(peer);
    if (!view) {
      view = {members: new Map(), delivered: 0, sent: 0, lastEventAt: 0};
      this.#views.set(peer, view);
    }
    for (const event of events) {
      view.lastEventAt = event.time;
      const member = typeof event.data.name === 'string' ? event.data.name : undefined;
      switch (event.type) {
        case 'peer.started':
          // A new process: its view starts from nothing but itself.
          view.members = new Map([[peer, 'alive']]);
          view.delivered = 0;
          view.sent = 0;
          break;
        case 'member.joined':
        case 'member.alive':
        case 'member.suspect':
        case 'member.dead':
        case 'member.left':
          if (member) view.members.set(member, event.type === 'member.joined' ? 'alive' : event.type.slice('member.'.length));
          break;
        case 'chat.delivered':
          view.delivered++;
          break;
        case 'chat.sent':
          view.sent++;
          break;
      }
    }
  }

  get(peer: string): PeerView | undefined {
    return this.#views.get(peer);
  }

  /** Members the peer considers live (alive or suspect), itself included. */
  liveCount(peer: string): number {
    const view = this.#views.get(peer);
    if (!view) return 0;
    return [...view.members.values()].filter((s) => s === 'alive' || s === 'suspect').length;
  }
}
