import { describe, expect, it } from 'vitest';
import { dropRules, parseConnections, taggedRules } from '../../tools/chaos/host-loss.js';

// A lost host (tools/chaos/host-loss.ts) is cut on the loopback only, one connection at a time:
// each rule must name both ends of one of the process's connections, and the rules left by a
// run must be found again by their tag alone.

const ss = [
  'ESTAB 0 0 127.0.0.1:41000 127.0.0.1:5432 users:(("node",pid=100,fd=21))',
  'ESTAB 0 17 127.0.0.1:41002 127.0.0.1:7233 users:(("node",pid=101,fd=22))',
  'ESTAB 0 0 127.0.0.1:5432 127.0.0.1:41000 users:(("postgres",pid=300,fd=7))',
  'ESTAB 0 0 127.0.0.1:9464 127.0.0.1:50500 users:(("node",pid=100,fd=30))',
  'ESTAB 0 0 [::1]:41010 [::1]:5001 users:(("node",pid=100,fd=25))',
  'ESTAB 0 0 10.0.0.5:41020 10.0.0.9:443 users:(("node",pid=100,fd=26))',
  'SYN-SENT 0 1 127.0.0.1:41030 127.0.0.1:5001 users:(("node",pid=100,fd=27))',
  'ESTAB 0 0 127.0.0.1:41040 127.0.0.1:5432 users:(("node",pid=1000,fd=21))',
  '',
].join('\n');

describe('host loss', () => {
  it("finds the process group's loopback connections, each from its side, and counts the others", () => {
    const { loopback, other } = parseConnections(ss, new Set([100, 101]));
    expect(loopback).toEqual([
      { local: { address: '127.0.0.1', port: 41000 }, peer: { address: '127.0.0.1', port: 5432 } },
      { local: { address: '127.0.0.1', port: 41002 }, peer: { address: '127.0.0.1', port: 7233 } },
      { local: { address: '127.0.0.1', port: 9464 }, peer: { address: '127.0.0.1', port: 50500 } },
      { local: { address: '127.0.0.1', port: 41030 }, peer: { address: '127.0.0.1', port: 5001 } },
    ]);
    expect(other).toBe(2); // IPv6 and another interface: out of the rules' scope
  });

  it('drops each connection both ways on lo, matching both addresses and both ports, tagged', () => {
    const connection = {
      local: { address: '127.0.0.1', port: 41000 },
      peer: { address: '127.0.0.1', port: 5432 },
    };
    const rules = dropRules([connection, connection], 'expenzy-soak-7-81');
    expect(rules.map((rule) => rule.join(' '))).toEqual([
      '-i lo -p tcp -s 127.0.0.1 --sport 41000 -d 127.0.0.1 --dport 5432 -m comment --comment expenzy-soak-7-81 -j DROP',
      '-i lo -p tcp -s 127.0.0.1 --sport 5432 -d 127.0.0.1 --dport 41000 -m comment --comment expenzy-soak-7-81 -j DROP',
    ]);
    expect(dropRules([], 'expenzy-soak-7-81')).toEqual([]);
  });

  it("finds a run's rules in the listing by their tag, as specifications to delete", () => {
    const listing = [
      '-P INPUT ACCEPT',
      '-A INPUT -s 127.0.0.1/32 -d 127.0.0.1/32 -i lo -p tcp -m tcp --sport 41000 --dport 5432 -m comment --comment expenzy-soak-7-81 -j DROP',
      '-A INPUT -s 127.0.0.1/32 -d 127.0.0.1/32 -i lo -p tcp -m tcp --sport 1 --dport 2 -m comment --comment expenzy-soak-7-810 -j DROP',
      '-A INPUT -i lo -p tcp -m tcp --dport 22 -m comment --comment "expenzy-soak-7-81" -j ACCEPT',
      '-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT',
      '-A OUTPUT -m comment --comment expenzy-soak-7-81 -j DROP',
      '',
    ].join('\n');
    expect(taggedRules(listing, 'expenzy-soak-7-81').map((rule) => rule.join(' '))).toEqual([
      '-s 127.0.0.1/32 -d 127.0.0.1/32 -i lo -p tcp -m tcp --sport 41000 --dport 5432 -m comment --comment expenzy-soak-7-81 -j DROP',
      '-i lo -p tcp -m tcp --dport 22 -m comment --comment expenzy-soak-7-81 -j ACCEPT',
    ]);
  });
});
