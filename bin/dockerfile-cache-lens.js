#!/usr/bin/env node
'use strict';
require('../dist/cli.js').runMain(process.argv.slice(2));
