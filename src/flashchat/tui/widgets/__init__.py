"""One widget per module. Widgets know nothing of HTTP: the app feeds them text, usage and errors."""
