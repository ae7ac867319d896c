"""The Explain panel: why the network gave its answer, and what drives one of its channels.

- :mod:`gui.explain.methods`: the methods as data, and Qt-free checks of a network
- :mod:`gui.explain.render`: maps as display-ready arrays (levels, upsampling, lookup tables)
- :mod:`gui.explain.jobs`: what runs off the GUI thread (calls into :mod:`engine.explain`)
- :mod:`gui.explain.workers`: the live worker (one-slot request and result, latest wins) and
  the task runner for long methods (progress, Cancel)
- :mod:`gui.explain.views`: pictures with a heat map over them, a grid of patches
- :mod:`gui.explain.class_tab`, :mod:`gui.explain.channel_tab`: the panel's two tabs
- :mod:`gui.explain.dock`: the dock (registered in :mod:`gui.layout` as ``explain``)
"""
