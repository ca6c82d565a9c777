// multichat: chat live with the project's model. The labeler writes each user turn and
// sends it (the Send button); the server asks the model for the task's replies_per_turn
// replies and stores the turn; the labeler picks the best reply (its key, for the latest
// turn), may rate every reply and edit the chosen one, and the conversation continues from
// it. Red-team tasks add the harm to probe and a harm rating. Model replies are shown as
// text, never as markup. The pure state is multichat/state.js.
import { api, h } from '../api.js';
import { transcriptView } from './common.js';
import { LiveChat } from './multichat/state.js';

function select(label, options, value, onchange, attrs = {}) {
  const el = h('select', { 'aria-label': label, ...attrs }, h('option', { value: '' }, '—'),
    options.map((o) => h('option', { value: String(o), selected: String(o) === String(value ?? '') }, String(o))));
  el.addEventListener('change', () => onchange(el.value));
  return el;
}

export default {
  mount(el, task, ctx) {
    const p = task.params;
    const chat = new LiveChat(p, ctx.initial);
    const turnsEl = h('div', { class: 'live-turns', 'aria-live': 'polite' });
    const status = h('p', { class: 'hint live-status' });
    const prompt = h('textarea', { class: 'live-prompt', rows: 3, placeholder: 'Write the next user message…', 'aria-label': 'Your message' });
    const send = h('button', { type: 'button', class: 'primary live-send' }, 'Send');
    const changed = (fn) => (...args) => { if (fn(...args)) { paint(); ctx.changed(); } };
    const choose = changed((i, id) => chat.choose(i, id));
    const rate = changed((i, id, v) => chat.rate(i, id, v));
    const edit = changed((i, text) => chat.edit(i, text));

    for (let k = 0; k < chat.perTurn; k += 1) {
      const key = ctx.freeKeys[k];
      if (key) ctx.hotkey(key, `Choose reply ${k + 1} of the latest turn`, () => {
        const last = chat.turns.length - 1;
        if (last >= 0 && chat.turns[last].replies[k]) choose(last, chat.turns[last].replies[k].id);
      });
    }

    function replyCard(i, r, k, latest) {
      const c = chat.choices[i];
      const chosen = c.chosen === r.id;
      const key = latest ? ctx.freeKeys[k] : null;
      const pick = h('button', { type: 'button', class: `choice live-choose${chosen ? ' selected' : ''}`, role: 'radio', 'aria-checked': String(chosen),
        dataset: { reply: r.id }, onclick: () => choose(i, r.id) }, key ? h('kbd', {}, key) : null, ' ', chosen ? 'Chosen' : 'Choose');
      const rating = select(`Rating of reply ${k + 1}`, Array.from({ length: chat.scale }, (_, n) => n + 1), c.ratings[r.id],
        (v) => rate(i, r.id, v), { class: 'live-rating' });
      const body = h('div', { class: 'live-reply-body' }, r.content);
      const card = h('article', { class: `chat-response live-reply${chosen ? ' selected' : ''}`, dataset: { reply: r.id } },
        h('header', { class: 'chat-response-head' }, h('span', {}, `Reply ${k + 1}`), h('label', { class: 'live-rating-label' }, 'Rating ', rating), pick), body);
      if (chosen) {
        const box = h('textarea', { class: 'live-edit', rows: 3, 'aria-label': `Edit reply ${k + 1}` });
        box.value = c.edited ?? r.content;
        box.addEventListener('change', () => edit(i, box.value));
        card.append(h('label', { class: 'live-edit-label' }, c.edited ? 'Your edit (kept instead of the reply)' : 'Edit the chosen reply (optional)', box));
      }
      return card;
    }

    function paint() {
      turnsEl.replaceChildren(...chat.turns.map((t, i) => h('section', { class: 'live-turn', dataset: { turn: String(i) } },
        h('div', { class: 'message role-user' }, h('div', { class: 'message-role' }, `user · turn ${i + 1}`), h('div', { class: 'message-body' }, t.prompt)),
        h('div', { class: `chat-responses ${t.replies.length > 1 ? 'side-by-side' : 'stacked'}` },
          t.replies.map((r, k) => replyCard(i, r, k, i === chat.turns.length - 1))))));
      const left = chat.maxTurns - chat.turns.length;
      send.disabled = left <= 0;
      status.textContent = left <= 0 ? 'This chat has all its turns.' : `${chat.turns.length} of at most ${chat.maxTurns} turns; at least ${chat.minTurns} to submit.`;
    }

    async function sendTurn() {
      chat.setDraft(prompt.value);
      let body;
      try { body = chat.nextRequest(); } catch (err) { status.textContent = err.message; return; }
      send.disabled = true;
      prompt.disabled = true;
      status.textContent = 'Waiting for the model…';
      try {
        const turn = await api('POST', `/api/assignments/${ctx.assignmentId}/chat`, body);
        chat.addTurn(turn);
        prompt.value = '';
        paint();
        ctx.changed();
      } catch (err) {
        status.textContent = `The model did not answer: ${err.message}`;
        send.disabled = false;
      } finally {
        prompt.disabled = false;
      }
    }
    send.addEventListener('click', sendTurn);

    const parts = [];
    if (chat.redTeam) {
      parts.push(h('section', { class: 'live-redteam' }, h('h3', {}, 'Red team'),
        h('p', {}, 'Try to make the model produce: ', h('strong', {}, chat.redTeam.harm_category), '. Then rate the worst it said.')));
    }
    if ((p.messages || []).length) parts.push(h('section', { class: 'chat-transcript', 'aria-label': 'Opening conversation' }, transcriptView(p.messages)));
    parts.push(turnsEl, h('div', { class: 'live-composer' }, prompt, send), status);
    if (chat.redTeam) {
      parts.push(h('section', { class: 'live-harm' }, h('h3', {}, 'Harm rating'),
        h('label', {}, 'Category ', select('Harm category', chat.harmCategories, chat.harm.category, changed((v) => { chat.setHarm('category', v); return true; }), { class: 'live-harm-category' })),
        h('label', {}, 'Severity ', select('Severity', chat.severityLevels, chat.harm.severity, changed((v) => { chat.setHarm('severity', v); return true; }), { class: 'live-harm-severity' }))));
    }
    el.append(...parts);
    paint();
    // a reloaded page picks up the turns already stored for this assignment
    api('GET', `/api/assignments/${ctx.assignmentId}/chat`).then((stored) => {
      let added = false;
      for (const t of stored.turns.slice(chat.turns.length)) added = chat.addTurn(t) || added;
      if (added) paint();
    }).catch(() => {});

    return {
      getResponse: () => chat.response(),
      getState: () => chat.snapshot(),
      setState(state) { chat.restore(state); paint(); },
    };
  },
};
