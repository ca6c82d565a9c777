// Pairwise preference: keys pick A / B / tie and the strength; an optional justification.
import { h } from '../../api.js';
import { choiceButton, mark, responseCard, textBox } from './common.js';
import { Pairwise, TIE } from './pairwise-state.js';

export function pairwise(el, params, ctx) {
  const responses = params.responses || [];
  const judged = new Pairwise(params, ctx.freeKeys, ctx.initial);
  const { options, levels, winnerKeys, strengthKeys } = judged;
  const edit = (fn) => (...args) => { if (fn(...args)) { paint(); ctx.changed(); } };
  const pickWinner = edit((value) => judged.pickWinner(value));
  const pickStrength = edit((level) => judged.pickStrength(level));

  const winnerButtons = options.map((o, i) => choiceButton(winnerKeys[i], o.label, o.value, () => pickWinner(o.value)));
  options.forEach((o, i) => winnerKeys[i] && ctx.hotkey(winnerKeys[i], o.value === TIE ? 'Tie' : `Response ${o.value} is better`, () => pickWinner(o.value)));
  const strengthButtons = levels.map((level, i) => choiceButton(strengthKeys[i], level, level, () => pickStrength(level)));
  levels.forEach((level, i) => strengthKeys[i] && ctx.hotkey(strengthKeys[i], `Strength: ${level}`, () => pickStrength(level)));
  const strengthTitle = h('h3', {}, 'How much better?');
  const strengthRow = h('div', { class: 'chat-strength' }, strengthTitle, h('div', { class: 'choices', role: 'radiogroup', 'aria-label': 'Strength' }, strengthButtons));
  const justification = textBox({ class: 'chat-justification', rows: 3, placeholder: 'Why? (optional)', 'aria-label': 'Justification' },
    (value) => judged.setJustification(value), ctx);

  el.append(
    h('div', { class: 'chat-responses side-by-side' }, responses.map((r) => responseCard(r))),
    h('section', { class: 'chat-judgement' },
      h('h3', {}, 'Which response is better?'),
      h('div', { class: 'choices', role: 'radiogroup', 'aria-label': 'Preference' }, winnerButtons),
      levels.length ? strengthRow : null,
      h('label', { class: 'chat-justification-label' }, 'Justification (optional)', justification)),
  );

  function paint() {
    const { state, isTie } = judged;
    for (const b of winnerButtons) mark(b, b.dataset.value === state.winner);
    for (const b of strengthButtons) {
      mark(b, b.dataset.value === state.strength && !isTie);
      b.disabled = isTie;
    }
    strengthRow.classList.toggle('muted', isTie);
    strengthTitle.textContent = judged.strengthTitle();
    if (justification.value !== state.justification) justification.value = state.justification;
  }
  paint();

  return {
    getResponse: () => judged.response(),
    getState: () => judged.snapshot(),
    setState(state) { judged.restore(state); paint(); },
  };
}
