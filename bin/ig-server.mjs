#!/usr/bin/env node
// `npm start`: the server, compiled (see load.mjs). npm runs this node process directly, so a
// signal to npm reaches the server, which drains and then stops its PostgreSQL.
import { load } from './load.mjs';
await load('main');
