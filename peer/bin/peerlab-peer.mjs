#!/usr/bin/env node
import '../dist/peer.mjs';
