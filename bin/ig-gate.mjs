#!/usr/bin/env node
// `npx ig-gate`: the compiled CLI (see load.mjs).
import { load } from './load.mjs';
await load('cli/ig-gate');
