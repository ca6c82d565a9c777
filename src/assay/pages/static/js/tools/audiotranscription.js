// audiotranscription: listen and type. Our own player over an <audio> element (play/pause,
// back 5 s, speed 0.5×–2×, position), driven by Ctrl+ keys that also work while typing.
// Without `segments`: one transcript box. With `segments`: a list of timed segments, each
// with its text and speaker; Ctrl+[ starts a segment at the playback position and Ctrl+]
// ends the selected one there. The transcript is then the segment texts joined by spaces
// (what the server checks), shown read-only below the list.
//
// Modules in audiotranscription/: state.js (the answer, segment order, the player's
// arithmetic) is pure and tested in Node; player.js and segments.js are the DOM.
import { h } from '../api.js';
import { editSteps } from './common.js';
import { createPlayer } from './audiotranscription/player.js';
import { SegmentList } from './audiotranscription/segments.js';
import { AudioAnswer, BACK_SECONDS } from './audiotranscription/state.js';

function facts(p, speakers) {
  const out = [];
  if (p.language) out.push(h('span', { class: 'badge' }, `Language: ${p.language}`));
  out.push(h('span', { class: 'badge' }, p.verbatim ? 'Verbatim: keep fillers, false starts, repetitions' : 'Clean: leave out fillers and false starts'));
  if (speakers.length) out.push(h('span', { class: 'badge' }, `Speakers: ${speakers.join(', ')}`));
  return out;
}

export default {
  mount(el, task, ctx) {
    const p = task.params;
    const answer = new AudioAnswer(p, ctx.initial);
    // Typing is one undo step per burst: ctx.changed() once the burst ends (pause, blur).
    const steps = editSteps(ctx, () => render());
    const player = createPlayer(p.attachment, ctx);

    let body;
    let render;
    const transcriptBox = h('textarea', { class: 'at-transcript', rows: '8', 'aria-label': 'Transcript', placeholder: 'Type what is said…', spellcheck: 'true' });
    if (answer.segmented) {
      const segments = new SegmentList(answer, player.audio, ctx, steps);
      body = segments.els;
      render = () => segments.render();
    } else {
      transcriptBox.addEventListener('input', () => { answer.setTranscript(transcriptBox.value); steps.typed(); });
      transcriptBox.addEventListener('change', steps.flushTyping);
      body = [transcriptBox];
      render = () => { if (transcriptBox.value !== answer.state.transcript) transcriptBox.value = answer.state.transcript; };
    }

    el.append(
      player.el,
      h('div', { class: 'at-facts' }, facts(p, answer.speakers)),
      ...body,
      h('p', { class: 'hint' }, 'Keys work while you type: ', h('kbd', {}, 'Ctrl+K'), ' play/pause, ', h('kbd', {}, 'Ctrl+J'),
        ` back ${BACK_SECONDS} s, `, h('kbd', {}, 'Ctrl+,'), ' / ', h('kbd', {}, 'Ctrl+.'), ' slower / faster. ',
        h('kbd', {}, 'Ctrl+Enter'), ' submits from a text box.'),
    );
    render();
    if (!answer.segmented && ctx.mode !== 'review') transcriptBox.focus(); // a reviewer's single-letter keys must not type

    return {
      getResponse: () => answer.response(),
      getState: () => answer.snapshot(),
      setState(saved) {
        steps.cancel();
        answer.restore(saved);
        render();
      },
    };
  },
};
