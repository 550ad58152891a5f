package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/beaver-analytics/beaver/engine/access"
)

func runUser(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Println("Usage: beaver user add NAME --role admin|analyst|viewer [flags]")
			return nil
		}
		return usageErr("beaver user add NAME --role admin|analyst|viewer")
	}
	args = args[1:]
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	var c common
	fs := newFlagSet("user add", "user add NAME --role admin|analyst|viewer [flags]\n\n"+
		"The password is read from standard input when it is piped in;\notherwise one is generated and printed once.")
	c.register(fs)
	role := fs.String("role", "", "admin, analyst or viewer (required)")
	scope := fs.String("scope", "", "comma-separated ASL codes the user's runs are restricted to (default: the whole region)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	if name == "" {
		return usageErr("missing NAME: beaver user add NAME --role admin|analyst|viewer")
	}
	if !access.Role(*role).Valid() {
		return usageErr("--role must be admin, analyst or viewer")
	}
	var aslScope []string
	if *scope != "" {
		aslScope = strings.Split(*scope, ",")
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
	accounts := &access.Service{Pool: db.Pool}
	u, err := accounts.CreateUser(ctx, access.NewUser{Name: name, Role: access.Role(*role), Password: password, Scope: aslScope})
	if err != nil {
		return err
	}
	_ = accounts.Audit(ctx, 0, "user_add", u.Name, "cli", map[string]any{"role": u.Role, "scope": u.Scope})
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
			return access.GeneratePassword(), true, nil
		}
		if p := strings.TrimRight(line, "\r\n"); p != "" {
			return p, false, nil
		}
	}
	return access.GeneratePassword(), true, nil
}
