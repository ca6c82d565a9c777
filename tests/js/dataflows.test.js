// The pure parts of the data pages: a project from a template, the import preview, the
// export form and a job's progress.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { downloadUrl, exportRequest, finished, formatBytes, formatsFor, progressText } from '../../src/assay/pages/static/js/data/export-state.js';
import { clip, errorRows, parseMapping, previewRows, summary } from '../../src/assay/pages/static/js/data/import-state.js';
import { parseLabels, repeatedLabel, requestBody, startingValues } from '../../src/assay/pages/static/js/data/newproject-state.js';

test('a template fills the form and the form becomes the request body', () => {
  const values = startingValues({ labels: ['pos', 'neg'], instruction: 'Pick one.', labels_title: 'Labels' });
  assert.deepEqual(values, { labels: 'pos\nneg', instruction: 'Pick one.', labelsTitle: 'Labels' });
  assert.deepEqual(parseLabels(' a \n\n b\n'), ['a', 'b']);
  assert.equal(repeatedLabel(['a', 'b', 'a']), 'a');
  assert.equal(repeatedLabel(['a', 'b']), null);
  const ok = requestBody({ name: ' Reviews ', template: 'sentiment', labels: 'pos\nneg', instruction: '# Hi', labels_per_task: '3', review_fraction: '0.1' });
  assert.deepEqual(ok.body, { name: 'Reviews', template: 'sentiment', labels: ['pos', 'neg'], instruction: '# Hi', labels_per_task: 3, review_fraction: 0.1 });
  assert.equal(requestBody({ name: '', template: 'x', labels: 'a' }).field, 'name');
  assert.equal(requestBody({ name: 'n', template: 'x', labels: ' \n' }).field, 'labels');
  assert.match(requestBody({ name: 'n', template: 'x', labels: 'a\na' }).error, /twice/);
  assert.deepEqual(requestBody({ name: 'n', template: 'x', labels: 'a', labels_per_task: '', review_fraction: 'x' }).body.labels_per_task, 1);
});

test('an import preview says whether the file can be imported', () => {
  const bad = { rows: 5, errors: [{ line: 3, field: 'attachment', error: 'Field required' }, { line: 3, field: 'x', error: 'y' }, { line: 6, field: 'priority', error: 'z' }], preview: [] };
  const said = summary(bad);
  assert.equal(said.ok, false);
  assert.match(said.text, /2 of 5 rows have errors \(lines 3, 6\)/);
  assert.deepEqual(errorRows(bad)[0], { line: 3, field: 'attachment', error: 'Field required' });
  assert.equal(summary({ rows: 0, errors: [] }).ok, false);
  const good = { rows: 2, media: 2, errors: [], preview: [{ line: 2, params: { text: 'x'.repeat(300) }, label: { category: 'a' }, media: 'a.png' }] };
  assert.equal(summary(good).ok, true);
  assert.match(summary(good).text, /2 media files/);
  const [row] = previewRows(good, 20);
  assert.equal(row.params.length, 20);
  assert.ok(row.params.endsWith('…'));
  assert.equal(row.label, '{"category":"a"}');
  assert.equal(clip('abc', 5), 'abc');
  assert.deepEqual(parseMapping(''), { value: '' });
  assert.deepEqual(parseMapping('{"a": "text"}'), { value: '{"a":"text"}' });
  assert.ok(parseMapping('{"a": 1}').error);
  assert.ok(parseMapping('[').error);
});

test('the export form becomes a download query and a job body; progress reads well', () => {
  const { body, query } = exportRequest({ format: 'csv', status: 'all', batch: ' ', min_confidence: '0.8', include_gold: true, media: false,
    include_auto_accepted: false });
  assert.deepEqual(body, { format: 'csv', status: 'all', min_confidence: 0.8, include_gold: true, include_auto_accepted: false });
  assert.equal(downloadUrl('p1', query), '/api/projects/p1/export?format=csv&status=all&min_confidence=0.8&include_gold=true&include_auto_accepted=false');
  assert.equal(downloadUrl('p1', []), '/api/projects/p1/export');
  assert.equal(progressText({ status: 'running', done: 50, total: 200 }), '50 of 200 tasks (25 %)');
  assert.equal(progressText({ status: 'done', done: 3, size: 2048, note: null }), '3 tasks, 2.0 KB');
  assert.match(progressText({ status: 'done', done: 0, size: 0, note: 'made with test keys' }), /test keys/);
  assert.equal(progressText({ status: 'failed', error: 'boom' }), 'failed: boom');
  assert.equal(finished({ status: 'queued' }), false);
  assert.equal(finished({ status: 'done' }), true);
  assert.equal(formatBytes(3 * 1024 * 1024), '3.0 MB');
  const formats = [{ name: 'jsonl', task_types: [] }, { name: 'coco', task_types: ['imageannotation'] }];
  assert.deepEqual(formatsFor(formats, 'categorization').map((f) => f.name), ['jsonl']);
});
