#!/usr/bin/env node
// `npx ig-evolve`: the compiled CLI (see load.mjs).
import { load } from './load.mjs';
await load('cli/ig-evolve');
