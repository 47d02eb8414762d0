#!/usr/bin/env node
// The `canvas-store-server` command. This shim is committed so npm can link it
// at install time; the server itself is the built dist/server/cli.js.
import '../dist/server/cli.js';
