// The image tool's controls: the toolbar (geometries, select mode, zoom, brightness and
// contrast, crosshair), the labels of the current geometry with their keys, the list of
// shapes (hide, lock, order, delete, pre-label fate) and the selected shape's attributes.
import { h } from '../../api.js';
import { geometryName } from './state.js';

// A colour chip (set through the CSSOM: the page's CSP refuses style attributes).
export function swatch(color) {
  const el = h('span', { class: 'ia-swatch' });
  el.style.background = color;
  return el;
}

export const GEOMETRY_KEYS = { box: 'q', polygon: 'p', line: 'l', point: 'o', ellipse: 'e', cuboid: 'c' };

export class Side {
  // act: {tool(name|'select'), label(name), select(uuid), toggle(list, uuid), restack(uuid, d), remove(uuid),
  //       attribute(uuid, name, value), zoom(how), adjust(b, c), crosshair()}
  constructor(answer, labelKeys, colorOf, act) {
    this.answer = answer;
    this.labelKeys = labelKeys;
    this.colorOf = colorOf;
    this.act = act;
    this.toolbar = h('div', { class: 'ia-toolbar', role: 'toolbar' });
    this.labelsEl = h('div', { class: 'ia-labels' });
    this.listEl = h('ol', { class: 'ia-list' });
    this.attrsEl = h('div', { class: 'ia-attrs' });
    this.zoomEl = h('span', { class: 'ia-zoom' });
    this.messageEl = h('p', { class: 'ia-message', role: 'status', 'aria-live': 'polite' });
    this.el = h('div', { class: 'ia-side' }, h('h3', {}, 'Labels'), this.labelsEl, this.attrsEl, h('h3', {}, 'Shapes'), this.listEl);
    this.buildToolbar();
  }

  buildToolbar() {
    const a = this.answer;
    const tools = [['select', 'Select / move', 'v'], ...a.geometries.map((g) => [g, geometryName(g), GEOMETRY_KEYS[g]])];
    this.toolButtons = tools.map(([name, title, key]) => h('button', { type: 'button', class: 'ia-tool', dataset: { tool: name },
      onclick: () => this.act.tool(name) }, title, ' ', h('kbd', {}, key.toUpperCase())));
    const adjust = () => this.act.adjust(Number(this.brightness.value), Number(this.contrast.value));
    this.brightness = h('input', { type: 'range', min: '30', max: '250', value: '100', class: 'ia-brightness', oninput: adjust });
    this.contrast = h('input', { type: 'range', min: '30', max: '250', value: '100', class: 'ia-contrast', oninput: adjust });
    const slider = (label, input) => h('label', { class: 'ia-slider' }, label, ' ', input);
    this.toolbar.append(...this.toolButtons, h('span', { class: 'ia-sep' }),
      h('button', { type: 'button', class: 'ia-zoom-out', onclick: () => this.act.zoom('out'), title: 'Zoom out (-)' }, '−'),
      this.zoomEl,
      h('button', { type: 'button', class: 'ia-zoom-in', onclick: () => this.act.zoom('in'), title: 'Zoom in (=)' }, '+'),
      h('button', { type: 'button', class: 'ia-fit', onclick: () => this.act.zoom('fit'), title: 'Fit (Z)' }, 'Fit'),
      h('button', { type: 'button', class: 'ia-one', onclick: () => this.act.zoom('one'), title: '1:1 (X)' }, '1:1'),
      slider('Brightness', this.brightness), slider('Contrast', this.contrast),
      h('button', { type: 'button', class: 'ia-cross-toggle', onclick: () => this.act.crosshair(), title: 'Crosshair (W)' }, 'Crosshair'));
  }

  paintToolbar(mode, scale) {
    const current = mode === 'select' ? 'select' : this.answer.tool;
    for (const b of this.toolButtons) b.classList.toggle('selected', b.dataset.tool === current);
    this.zoomEl.textContent = `${Math.round(scale * 100)}%`;
  }

  message(text) { this.messageEl.textContent = text || ''; }

  paintLabels() {
    const a = this.answer;
    const shape = a.selectedShape();
    const type = shape ? shape.type : a.tool;
    this.labelsEl.replaceChildren(...a.allLabels.map((label, i) => {
      const allowed = (a.labels[type] || []).includes(label);
      return h('button', { type: 'button', class: `choice ia-label${label === a.label ? ' selected' : ''}${allowed ? '' : ' other'}`,
        dataset: { label }, title: allowed ? '' : `not a ${type} label`, onclick: () => this.act.label(label) },
      swatch(this.colorOf(label)), ' ', label,
      this.labelKeys[i] ? h('kbd', {}, this.labelKeys[i]) : null);
    }));
  }

  paintList() {
    const a = this.answer;
    if (!a.shapes.length) {
      this.listEl.replaceChildren(h('li', { class: 'ia-empty muted' }, 'No shapes yet: choose a geometry and draw on the image.'));
      return;
    }
    // top of the stack first, as layers are usually listed
    this.listEl.replaceChildren(...[...a.shapes].reverse().map((shape) => this.row(shape)));
  }

  row(shape) {
    const a = this.answer;
    const { uuid } = shape;
    const fate = a.prelabelFate(shape);
    const small = (label, cls, fn, pressed) => h('button', { type: 'button', class: `link ${cls}`, title: label, 'aria-pressed': pressed ? 'true' : 'false',
      onclick: (e) => { e.stopPropagation(); fn(); } }, label);
    return h('li', { class: `ia-row${uuid === a.selected ? ' selected' : ''}${a.isHidden(uuid) ? ' hidden-shape' : ''}`, dataset: { uuid },
      onclick: () => this.act.select(uuid) },
    swatch(this.colorOf(shape.label)),
    h('span', { class: 'ia-row-label' }, shape.label), h('span', { class: 'muted ia-row-type' }, geometryName(shape.type)),
    fate ? h('span', { class: `badge ia-fate ${fate}` }, `pre-label ${fate}`) : null,
    h('span', { class: 'ia-row-actions' },
      small(a.isHidden(uuid) ? 'show' : 'hide', 'ia-hide', () => this.act.toggle('hidden', uuid), a.isHidden(uuid)),
      small(a.isLocked(uuid) ? 'unlock' : 'lock', 'ia-lock', () => this.act.toggle('locked', uuid), a.isLocked(uuid)),
      small('up', 'ia-up', () => this.act.restack(uuid, 1)), small('down', 'ia-down', () => this.act.restack(uuid, -1)),
      small('×', 'ia-delete', () => this.act.remove(uuid))));
  }

  // annotation_attributes of the selected shape: a select per category, inputs otherwise.
  paintAttributes() {
    const a = this.answer;
    const shape = a.selectedShape();
    const specs = Object.entries(a.attributes);
    if (!shape || !specs.length) { this.attrsEl.replaceChildren(); return; }
    const fields = specs.map(([name, spec]) => {
      const value = shape.attributes?.[name];
      const kind = spec.type || 'category';
      const set = (v) => this.act.attribute(shape.uuid, name, v);
      let input;
      if (kind === 'category') {
        input = h('select', { dataset: { attribute: name }, onchange: (e) => set(e.target.value) },
          h('option', { value: '' }, '—'), (spec.choices || []).map((c) => h('option', { value: c, selected: c === value }, c)));
      } else {
        const numeric = kind === 'number' || kind === 'angle';
        input = h('input', { type: numeric ? 'number' : 'text', value: value ?? '', min: spec.min, max: spec.max, dataset: { attribute: name },
          onchange: (e) => set(numeric ? (e.target.value === '' ? '' : Number(e.target.value)) : e.target.value) });
      }
      return h('label', { class: 'ia-attr' }, h('span', {}, spec.description || name), input);
    });
    this.attrsEl.replaceChildren(h('h3', {}, 'Attributes'), ...fields);
  }
}
