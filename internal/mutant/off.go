//go:build !mutants

package mutant

// On reports whether mutant n is switched on: never, without the mutants
// build tag.
func On(Name) bool { return false }
