"""One use-case per command, in modules that mirror cslog/cli/: each takes the store (and the actor and
`now` when it writes), applies the rules of the domain modules, and returns what happened for cli/ to render."""
