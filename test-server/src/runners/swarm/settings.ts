/**
 * What only the swarm runner needs, set once by the CLI from its flags
 * (`--image`, `--coordinator-address`) before any run starts.
 */
export interface SwarmSettings {
  /** A user's image holding the peer program (`--image`); default: the reference peer's image, built here. */
  image?: string;
  /** The host the peers reach the coordinator at (the port stays the coordinator's); default: the address it listens on. */
  coordinatorAddress?: string;
}

let current: SwarmSettings = {};

export function configureSwarm(settings: SwarmSettings): void {
  current = {...settings};
}

export function swarmSettings(): SwarmSettings {
  return current;
}
