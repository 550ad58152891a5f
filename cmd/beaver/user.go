package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/beaver-analytics/beaver/engine"
)

func runUser(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Println("Usage: beaver user add NAME --role admin|analyst [flags]")
			return nil
		}
		return usageErr("beaver user add NAME --role admin|analyst")
	}
	args = args[1:]
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	var c common
	fs := newFlagSet("user add", "user add NAME --role admin|analyst [flags]\n\n"+
		"The password is read from standard input when it is piped in;\notherwise one is generated and printed once.")
	c.register(fs)
	role := fs.String("role", "", "admin or analyst (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	if name == "" {
		return usageErr("missing NAME: beaver user add NAME --role admin|analyst")
	}
	if *role != "admin" && *role != "analyst" {
		return usageErr("--role must be admin or analyst")
	}
	password, generated, err := readPassword()
	if err != nil {
		return err
	}
	db, _, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := engine.CreateUser(ctx, db.Pool, name, engine.Role(*role), password)
	if err != nil {
		return err
	}
	_ = engine.Audit(ctx, db.Pool, 0, "user_add", u.Name, "cli")
	if generated {
		fmt.Printf("created %s %q with password %s (shown only once)\n", u.Role, u.Name, password)
	} else {
		fmt.Printf("created %s %q\n", u.Role, u.Name)
	}
	return nil
}

// readPassword takes the first line of standard input when it is a pipe or
// a file, or generates a password when it is a terminal or empty.
func readPassword() (string, bool, error) {
	st, err := os.Stdin.Stat()
	if err == nil && st.Mode()&os.ModeCharDevice == 0 {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return engine.GeneratePassword(), true, nil
		}
		if p := strings.TrimRight(line, "\r\n"); p != "" {
			return p, false, nil
		}
	}
	return engine.GeneratePassword(), true, nil
}
