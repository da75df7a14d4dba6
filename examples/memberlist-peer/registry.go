package main

// Command specs (what hello and --describe-commands announce) and the
// agent-side argument checks of docs/PROTOCOL.md section 3: strict JSON
// types, the first broken rule decides the message.

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

type argSpec struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	Description string   `json:"description"`
	Flag        bool     `json:"flag"`
	Required    bool     `json:"required"`
	Rest        bool     `json:"rest"`
	Repeatable  bool     `json:"repeatable"`
	Values      []string `json:"values,omitempty"`
}

type commandSpec struct {
	Name    string    `json:"name"`
	Group   string    `json:"group"`
	Summary string    `json:"summary"`
	Args    []argSpec `json:"args"`
}

// cmdError carries a protocol error code out of a handler.
type cmdError struct {
	code, message string
}

func (e *cmdError) Error() string { return e.message }

func badArgs(format string, a ...any) error {
	return &cmdError{"bad-arguments", fmt.Sprintf(format, a...)}
}

func failed(format string, a ...any) error {
	return &cmdError{"failed", fmt.Sprintf(format, a...)}
}

func usage(c commandSpec) string {
	parts := []string{c.Name}
	for _, a := range c.Args {
		var s string
		switch {
		case a.Flag && a.Type == "boolean":
			s = "--" + a.Name
		case a.Flag:
			s = "--" + a.Name + " <" + typeWord(a) + ">"
		case a.Rest:
			s = "<" + a.Name + "...>"
		case a.Repeatable:
			s = "<" + a.Name + ">..."
		default:
			s = "<" + typeWordPositional(a) + ">"
		}
		if !a.Required {
			s = "[" + s + "]"
		}
		parts = append(parts, s)
	}
	return "Usage: " + strings.Join(parts, " ")
}

func typeWord(a argSpec) string {
	if len(a.Values) > 0 {
		return strings.Join(a.Values, "|")
	}
	return a.Type
}

func typeWordPositional(a argSpec) string {
	if len(a.Values) > 0 {
		return strings.Join(a.Values, "|")
	}
	return a.Name
}

func showJSON(raw json.RawMessage) string {
	s := string(raw)
	if len([]rune(s)) > 60 {
		s = string([]rune(s)[:60])
	}
	return s
}

// validateArgs turns the request's args into typed values, or says what is wrong.
func validateArgs(c commandSpec, raw json.RawMessage) (map[string]any, error) {
	values := map[string]json.RawMessage{}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &values); err != nil {
			return nil, badArgs("%s: arguments must be an object of named values", c.Name)
		}
	} else if string(raw) == "null" {
		return nil, badArgs("%s: arguments must be an object of named values", c.Name)
	}
	known := map[string]bool{}
	for _, a := range c.Args {
		known[a.Name] = true
	}
	for k := range values {
		if !known[k] {
			return nil, badArgs("%s: unknown argument %q. %s", c.Name, k, usage(c))
		}
	}
	out := map[string]any{}
	for _, a := range c.Args {
		v, present := values[a.Name]
		if !present {
			if a.Required {
				return nil, badArgs("%s: missing <%s>. %s", c.Name, a.Name, usage(c))
			}
			continue
		}
		bad := func(expected string) error {
			return badArgs("%s: %s must be %s, got %s", c.Name, a.Name, expected, showJSON(v))
		}
		if a.Repeatable {
			var list []string
			var one string
			if json.Unmarshal(v, &one) == nil {
				list = []string{one}
			} else if err := json.Unmarshal(v, &list); err != nil || strings.TrimSpace(string(v)) == "null" {
				return nil, bad("a list of strings")
			}
			if a.Required && len(list) == 0 {
				return nil, bad("at least one value")
			}
			out[a.Name] = list
			continue
		}
		switch a.Type {
		case "string", "enum":
			var s string
			if json.Unmarshal(v, &s) != nil {
				if a.Type == "enum" {
					return nil, bad("one of " + strings.Join(a.Values, ", "))
				}
				return nil, bad("a string")
			}
			if a.Type == "enum" {
				ok := false
				for _, x := range a.Values {
					ok = ok || x == s
				}
				if !ok {
					return nil, bad("one of " + strings.Join(a.Values, ", "))
				}
			} else if a.Required && s == "" {
				return nil, bad("a non-empty string")
			}
			out[a.Name] = s
		case "boolean":
			var b bool
			if json.Unmarshal(v, &b) != nil {
				return nil, bad("true or false")
			}
			out[a.Name] = b
		case "integer", "number":
			var f float64
			if json.Unmarshal(v, &f) != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				if a.Type == "integer" {
					return nil, bad("an integer")
				}
				return nil, bad("a number")
			}
			if a.Type == "integer" && f != math.Trunc(f) {
				return nil, bad("an integer")
			}
			out[a.Name] = f
		}
	}
	return out, nil
}
