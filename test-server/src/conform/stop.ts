/** Thrown by a check that cannot go on: a failure whose reason ends the check. */
export class CheckStop extends Error {}
