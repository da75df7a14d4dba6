"""The commands the peer offers the coordinator, like the reference peer's
where they make sense. No `net-*` commands: network faults come from the
kernel fault backend, which acts on the peer's sockets from outside.
"""
from peerlab_agent import Command, CommandError, arg, usage

from .transport import parse_address

JSON = arg('json', 'boolean', 'print machine-readable JSON', flag=True)


def table(headers, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    return '\n'.join('  '.join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip() for row in [headers, *rows])


def build(peer):
    """The command list for `peer` (a main.Peer)."""
    m, chat = peer.membership, peer.chat

    def members_view(all_members):
        with m.lock:
            chosen = m.all() if all_members else m.live()
            return {'self': m.name, 'checksum': m.checksum(), 'count': len(m.live()),
                    'members': [{'name': x.name, 'address': x.address, 'state': x.state, 'incarnation': x.incarnation}
                                for x in sorted(chosen, key=lambda x: x.name)]}

    def status(_args, _ctx):
        with m.lock:
            return {'name': m.name, 'address': m.me.address, 'state': m.me.state, 'incarnation': m.me.incarnation,
                    'profile': peer.profile.name, 'members': len(m.live()), 'checksum': m.checksum(),
                    'messages': len(chat.delivered), 'malformed': peer.transport.malformed,
                    'traffic': {'udpOut': peer.transport.udp_out, 'udpOutBytes': peer.transport.udp_out_bytes},
                    **({'bug': peer.bug} if peer.bug else {})}

    def join(args, _ctx):
        seeds = args.get('seeds') or []
        for word in seeds:
            if parse_address(word) is None:
                raise CommandError(f'join: "{word}" is not host:port', 'bad-arguments')
        result = peer.join(seeds or None, retry=False)
        if result['seeds'] > 0 and not result['contacted']:
            raise CommandError(f'join: no seed answered ({"; ".join(result["errors"]) or "no answer"})', 'failed')
        return {**result, 'members': len(m.live())}

    def join_text(r, _args):
        if r['seeds'] == 0:
            return 'no seeds: started a group of my own'
        return f'contacted a seed of {r["seeds"]}; {r["members"]} live members'

    def leave(_args, _ctx):
        peer.leave()
        return {'left': True, 'incarnation': m.me.incarnation}

    def send(args, _ctx):
        try:
            message = chat.send(args['text'])
        except RuntimeError as error:
            raise CommandError(f'send: {error}', 'failed') from None
        return {'id': message['id'], 'seq': message['seq'], 'sentAt': message['sentAt'], 'deps': []}

    def messages(args, _ctx):
        delivered = chat.messages()
        last = args.get('last')
        shown = delivered[-last:] if isinstance(last, int) and last > 0 else ([] if last == 0 else delivered)
        return {'count': len(delivered), 'duplicates': chat.duplicates, 'held': chat.held_count(), 'messages': shown}

    def messages_text(r, args):
        lines = [(f'[{x["id"]}] ' if args.get('ids') else '') + f'<{x["sender"]}> {x["text"]}' for x in r['messages']]
        return '\n'.join(lines) if lines else 'no messages yet'

    def exit_(args, _ctx):
        peer.exit_soon(leave=args.get('no-leave') is not True)
        return {'exiting': True}

    commands = [
        Command('status', 'show this peer: name, address, state, incarnation, profile', status, args=[JSON],
                format=lambda r, _a: '\n'.join(f'{k}: {v}' for k, v in r.items())),
        Command('members', 'list alive and suspect members with incarnation, and the checksum of the live set',
                lambda args, _ctx: members_view(args.get('all') is True), group='membership',
                args=[JSON, arg('all', 'boolean', 'include dead and left members', flag=True)],
                format=lambda r, _a: table(['NAME', 'ADDRESS', 'STATE', 'INCARNATION'],
                                           [[x['name'] + (' (me)' if x['name'] == r['self'] else ''), x['address'], x['state'], x['incarnation']]
                                            for x in r['members']]) + f'\n{r["count"]} live, checksum {r["checksum"]}'),
        Command('join', 'join a group through host:port seeds, or the bootstrap service when none are given', join,
                group='membership', args=[arg('seeds', 'string', 'host:port of a member', repeatable=True)], format=join_text),
        Command('leave', 'leave the group gracefully (others record "left")', leave, group='membership',
                format=lambda _r, _a: 'left the group'),
        Command('send', 'broadcast a message to every member', send, group='chat',
                args=[arg('text', 'string', 'the message', rest=True, required=True)],
                format=lambda r, _a: f'sent {r["id"]}'),
        Command('messages', 'list delivered messages, in delivery order', messages, group='chat',
                args=[JSON, arg('last', 'integer', 'only the last N', flag=True), arg('ids', 'boolean', "show each message's id", flag=True)],
                format=messages_text),
        Command('exit', 'leave the group gracefully and exit', exit_,
                args=[arg('no-leave', 'boolean', 'exit without leaving (others will detect a failure)', flag=True)],
                format=lambda _r, _a: 'bye'),
    ]

    def help_(args, _ctx):
        if isinstance(args.get('command'), str):
            spec = next((c.spec for c in commands if c.name == args['command']), None)
            if spec is None:
                raise CommandError(f'help: no command "{args["command"]}"', 'bad-arguments')
            return {'command': spec['name'], 'summary': spec['summary'], 'usage': usage(spec), 'args': spec['args']}
        groups = {}
        for c in commands:
            groups.setdefault(c.spec['group'], []).append({'name': c.name, 'summary': c.spec['summary']})
        return {'groups': groups}

    def help_text(r, _args):
        if 'groups' in r:
            return '\n'.join(f'{g}:\n' + '\n'.join(f'  {c["name"]:<12} {c["summary"]}' for c in cs) for g, cs in r['groups'].items())
        return f'{r["usage"]}\n  {r["summary"]}'

    commands.insert(0, Command('help', 'list commands, or show one command in detail', help_,
                               args=[arg('command', 'string', 'a command name')], format=help_text))
    return commands
