"""The bootstrap service client (PROTOCOL.md section 10): POST /join for
contacts, POST /leave on a graceful leave. Connections leave from --host, as
every socket of the peer does.
"""
import http.client
import json
import urllib.parse

JOIN_CONTACTS = 3


class BootstrapError(Exception):
    pass


class Bootstrap:
    def __init__(self, url, token, source_host):
        self.url = urllib.parse.urlsplit(url)
        if self.url.scheme != 'http' or not self.url.hostname:
            raise BootstrapError(f'--bootstrap: expected an http:// URL, got {url!r}')
        self.token = token
        self.source_host = source_host

    def request(self, method, path, body, timeout_s):
        connection = http.client.HTTPConnection(self.url.hostname, self.url.port or 80, timeout=timeout_s,
                                                source_address=(self.source_host, 0))
        headers = {'Content-Type': 'application/json'}
        if self.token:
            headers['Authorization'] = f'Bearer {self.token}'
        try:
            connection.request(method, self.url.path.rstrip('/') + path, body=json.dumps(body), headers=headers)
            response = connection.getresponse()
            text = response.read().decode('utf-8', 'replace')
        except OSError as error:
            raise BootstrapError(f'{method} {path}: {error}') from None
        finally:
            connection.close()
        if not 200 <= response.status < 300:
            raise BootstrapError(f'{method} {path}: {response.status} {text[:200]}')
        try:
            return json.loads(text)
        except ValueError:
            raise BootstrapError(f'{method} {path}: answer is not JSON') from None

    def join(self, name, address, timeout_s=10):
        """Registers this peer; returns the contacts' addresses (oldest first), never its own."""
        answer = self.request('POST', '/join', {'name': name, 'address': address}, timeout_s)
        contacts = answer.get('contacts') if isinstance(answer, dict) else None
        if not isinstance(contacts, list):
            raise BootstrapError('POST /join: no contacts in the answer')
        return [c['address'] for c in contacts
                if isinstance(c, dict) and isinstance(c.get('address'), str) and c.get('name') != name and c['address'] != address]

    def leave(self, name, timeout_s=2):
        self.request('POST', '/leave', {'name': name}, timeout_s)
