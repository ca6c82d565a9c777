// chat: judge model responses to a conversation. The transcript and the responses are
// server-rendered Markdown (content_html, raw HTML escaped there); the rest is text nodes.
// One module per evaluation mode in chat/, each with its pure state in *-state.js (tested
// in Node) and chat/common.js for the pieces they share:
//   pairwise        keys pick A / B / tie and the strength; optional justification
//   ranking         drag the cards, or select one with its key and move it with ↑/↓, or
//                   type the order ("BAC")
//   rubric          a grid of criteria × responses; digits score the focused cell, arrows
//                   (and Tab) move between cells, justification boxes per cell
//   ideal_response  an editor (prefilled from the starting answer, or from a response
//                   copied with its key, recorded as based_on) with a live character count
import { h } from '../api.js';
import { idealResponse } from './chat/ideal-response.js';
import { pairwise } from './chat/pairwise.js';
import { ranking } from './chat/ranking.js';
import { rubric } from './chat/rubric.js';
import { transcriptView } from './common.js';

const MODES = { pairwise, ranking, rubric, ideal_response: idealResponse };

export default {
  mount(el, task, ctx) {
    const p = task.params;
    el.classList.add(`chat-${p.evaluation}`);
    el.append(h('section', { class: 'chat-transcript', 'aria-label': 'Conversation' }, h('h3', {}, 'Conversation'), transcriptView(p.messages)));
    const mode = MODES[p.evaluation];
    if (!mode) {
      el.append(h('p', { class: 'error' }, `Unknown evaluation mode ${p.evaluation}.`));
      return { getResponse() { throw new Error('This task has an unknown evaluation mode.'); }, getState() { return null; }, setState() {} };
    }
    return mode(el, p, ctx);
  },
};
