// namedentityrecognition: select spans of the text and give each one a label; link
// labeled spans with relationships when the task defines them.
//
// Mouse: drag over text (the selection snaps to whole words), then click a label or
// press its key. Keyboard: ←/→ move a word caret (the caret word is the selection),
// Shift+←/→ extend it, a label key labels it. ↑/↓ walk the annotations and relations,
// Delete/Backspace removes the selected one, a label key relabels the selected
// annotation. L links: select the source, press L, pick the target (↑/↓ or a click),
// press L again, then the relationship name's key when there is a choice.
//
// Modules in namedentityrecognition/: state.js (the answer and its rules, code-point
// offsets) and editing.js (caret, selection, linking) are pure and tested in Node;
// render.js paints them; input.js maps keys and the mouse to editing calls.
import { NerEditor } from './namedentityrecognition/editing.js';
import { LINK_KEY, bindInput } from './namedentityrecognition/input.js';
import { NerView } from './namedentityrecognition/render.js';
import { NerAnswer } from './namedentityrecognition/state.js';

export default {
  mount(el, task, ctx) {
    const answer = new NerAnswer(task.params);
    answer.load(ctx.initial);
    const editor = new NerEditor(answer);
    const labelKeys = ctx.freeKeys.filter((k) => k !== LINK_KEY);
    const actions = {}; // the view's buttons call what the input layer puts here
    const view = new NerView(el, editor, labelKeys, actions);
    Object.assign(actions, bindInput(editor, view, ctx, labelKeys));
    view.paint();
    return {
      getResponse: () => editor.response(),
      getState: () => answer.snapshot(),
      setState(state) {
        editor.restore(state);
        view.paint();
      },
    };
  },
};
