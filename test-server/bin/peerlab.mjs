#!/usr/bin/env node
import '../dist/src/peerlab.js';
