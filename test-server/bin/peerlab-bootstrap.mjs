#!/usr/bin/env node
import '../dist/src/bootstrap/main.js';
