// The console's component layer: Debian's Preact (node-preact, version 8) for the virtual DOM,
// and the three hooks the pages use (useState, useEffect, useCallback), which Preact 8
// does not have. Every function component is run inside a class component of its own (made
// once per function, as each vnode is created), which keeps the component's hook slots, runs
// its effects after the DOM is updated and cleans them up when it unmounts.
import { h, render, Component, options } from 'preact';

export { h, render };

let current = null;  // the component whose function is running, and its next hook slot
let slot = 0;

class Hooked extends Component {
  constructor(props, context) {
    super(props, context);
    this.hooks = [];
    this.pending = [];
  }

  render(props, state, context) {
    current = this;
    slot = 0;
    try {
      return this.fn(props, context);
    } finally {
      current = null;
    }
  }

  componentDidMount() { this.runEffects(); }

  componentDidUpdate() { this.runEffects(); }

  componentWillUnmount() {
    this.gone = true;
    for (const hook of this.hooks) if (hook.cleanup) hook.cleanup();
  }

  runEffects() {
    const due = this.pending;
    this.pending = [];
    for (const hook of due) {
      if (hook.cleanup) hook.cleanup();
      const cleanup = hook.effect();
      hook.cleanup = typeof cleanup === 'function' ? cleanup : null;
    }
  }
}

const wrappers = new WeakMap();

function hooked(fn) {
  let wrapper = wrappers.get(fn);
  if (!wrapper) {
    wrapper = class extends Hooked {};
    wrapper.prototype.fn = fn;
    Object.defineProperty(wrapper, 'name', { value: fn.name || 'Anonymous' });
    wrappers.set(fn, wrapper);
  }
  return wrapper;
}

const chained = options.vnode;
options.vnode = (vnode) => {
  const type = vnode.nodeName;
  if (typeof type === 'function' && !(type.prototype && type.prototype.render)) vnode.nodeName = hooked(type);
  if (chained) chained(vnode);
};

function nextHook(init) {
  if (!current) throw new Error('a hook was called outside a component\'s render');
  const hooks = current.hooks;
  if (slot === hooks.length) hooks.push(init(current));
  return hooks[slot++];
}

const changed = (before, after) => !before || !after || before.length !== after.length ||
  after.some((v, i) => !Object.is(v, before[i]));

export function useState(initial) {
  const hook = nextHook((owner) => {
    const state = { value: typeof initial === 'function' ? initial() : initial };
    state.set = (v) => {
      const next = typeof v === 'function' ? v(state.value) : v;
      if (Object.is(next, state.value)) return;
      state.value = next;
      if (!owner.gone) owner.setState({});
    };
    return state;
  });
  return [hook.value, hook.set];
}

// Runs effect after the render whose deps differ from the last ones (every render without deps).
export function useEffect(effect, deps) {
  const owner = current;
  const hook = nextHook(() => ({ deps: undefined, cleanup: null }));
  if (hook.deps !== undefined && deps && !changed(hook.deps, deps)) return;
  hook.deps = deps || null;
  hook.effect = effect;
  owner.pending.push(hook);
}

export function useCallback(fn, deps) {
  const hook = nextHook(() => ({ fn, deps }));
  if (changed(hook.deps, deps)) {
    hook.fn = fn;
    hook.deps = deps;
  }
  return hook.fn;
}
