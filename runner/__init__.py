"""dynamigrate runner: the page worker, history access and (later) the custom-resource lifecycle."""
