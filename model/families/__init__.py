"""One module per model family; each ``add_*`` adds its sets, variables and constraints and
does nothing when its subset is empty. ``model.build.build_model`` calls them in order."""
