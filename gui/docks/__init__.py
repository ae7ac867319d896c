"""The main window's panels, one module each. They are listed, with their titles, areas and
shortcuts, in the registry :data:`gui.layout.DOCKS`, which imports none of them."""
