#!/usr/bin/env node
// `npx ig-token`: the compiled CLI (see load.mjs).
import { load } from './load.mjs';
await load('cli/ig-token');
