/**
 * The page's colours, one table per kind of mark, so a legend and the marks
 * it explains read the same entry. Fault colours live in the data contract
 * (faultColors), the rest here.
 */
import type {LifecycleState, MemberStateName} from '../../src/data/types.js';

export const statusColors: Record<'pass' | 'fail' | 'unknown', string> = {
  pass: '#2e9e5b',
  fail: '#d62839',
  unknown: '#e0a100',
};

export const statusLabels: Record<'pass' | 'fail' | 'unknown', string> = {
  pass: 'passed',
  fail: 'failed',
  unknown: 'undecided',
};

/** Indexed like memberStates: alive, suspect, dead, left, absent. */
export const memberStateColors: Record<MemberStateName, string> = {
  alive: '#4caf50',
  suspect: '#ffb300',
  dead: '#c62828',
  left: '#5c6bc0',
  absent: '#eceff1',
};

export const lifecycleColors: Record<LifecycleState, string> = {
  running: '#9ccc65',
  paused: '#8d99ae',
  left: '#5c6bc0',
  down: '#424242',
};

export const cursorColor = '#1565c0';
