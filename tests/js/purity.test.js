// The state modules stay pure: no DOM, no network, and they import only each other, so
// they load in Node (as the other tests here do) and the pages' behaviour lives where it
// can be tested.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const JS = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/assay/pages/static/js');

// state.js and *-state.js anywhere, and these by name
const NAMED = ['workbench/keys.js', 'workbench/history.js', 'workbench/queue.js', 'tools/namedentityrecognition/editing.js',
  'tools/textcollection/values.js', 'workbench/wellbeing.js', 'taskbrowser/bulk.js', 'workbench/progress.js', 'workbench/answers.js'];

function allModules(dir = JS) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? allModules(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : []));
}
const PURE = new Set(allModules().filter((f) => /(^|[/-])state\.js$/.test(f) || NAMED.includes(relative(JS, f))));
const source = (f) => readFileSync(f, 'utf8').replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');

test('every tool with a state module has one, and the named pure modules exist', () => {
  const names = [...PURE].map((f) => relative(JS, f)).sort();
  for (const want of [...NAMED, 'tools/namedentityrecognition/state.js', 'tools/textcollection/state.js', 'tools/documenttranscription/state.js',
    'tools/audiotranscription/state.js', 'tools/imageannotation/state.js', 'tools/segmentannotation/state.js', 'tools/videoannotation/state.js', 'tools/chat/pairwise-state.js', 'tools/chat/ranking-state.js', 'tools/chat/rubric-state.js',
    'tools/chat/ideal-response-state.js']) {
    assert.ok(names.includes(want), `${want} is missing`);
  }
});

test('state modules touch no DOM, network or storage', () => {
  for (const f of PURE) {
    const text = source(f);
    const found = text.match(/\b(document|window|navigator|localStorage|sessionStorage|XMLHttpRequest|HTMLElement|Node\.)\b|\bfetch\s*\(/);
    assert.equal(found, null, `${relative(JS, f)} uses ${found?.[0]}`);
  }
});

test('state modules import only other state modules', () => {
  for (const f of PURE) {
    for (const [, target] of source(f).matchAll(/^\s*import\b[^'"]*['"]([^'"]+)['"]/gm)) {
      assert.ok(PURE.has(resolve(dirname(f), target)), `${relative(JS, f)} imports ${target}`);
    }
  }
});
