package web

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/beaver-analytics/beaver/engine/access"
	"github.com/beaver-analytics/beaver/schema/errs"
)

// NewUserRequest is the body of POST /api/v1/users.
type NewUserRequest struct {
	Username string      `json:"username"`
	Role     access.Role `json:"role"`
	Password string      `json:"password"`
	Scope    []string    `json:"scope"`
}

func (s *Server) listUsers(c *echo.Context) error {
	list, err := s.accounts.Users(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"users": list})
}

func (s *Server) createUser(c *echo.Context) error {
	var req NewUserRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	u, err := s.accounts.CreateUser(c.Request().Context(), access.NewUser{Name: req.Username, Role: req.Role, Password: req.Password, Scope: req.Scope})
	if err != nil {
		return err
	}
	s.audit(c, "user_create", u.Name, map[string]any{"user_id": u.ID, "role": u.Role, "scope": u.Scope})
	return c.JSON(http.StatusCreated, u)
}

func (s *Server) updateUser(c *echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var ch access.UserChange
	if err := bindJSON(c, &ch); err != nil {
		return err
	}
	if id == currentUser(c).ID && ((ch.Disabled != nil && *ch.Disabled) || (ch.Role != nil && *ch.Role != access.RoleAdmin)) {
		return fmt.Errorf("%w: you cannot disable yourself or drop your own admin role (ask another admin)", errs.Conflict)
	}
	u, err := s.accounts.UpdateUser(c.Request().Context(), id, ch)
	if err != nil {
		return err
	}
	s.sessions.forgetUser(id)
	detail := map[string]any{"user_id": id}
	if ch.Role != nil {
		detail["role"] = *ch.Role
	}
	if ch.Scope != nil {
		detail["scope"] = *ch.Scope
	}
	if ch.Disabled != nil {
		detail["disabled"] = *ch.Disabled
	}
	if ch.Password != nil {
		detail["password_reset"] = true
	}
	s.audit(c, "user_update", u.Name, detail)
	return c.JSON(http.StatusOK, u)
}

func (s *Server) getSettings(c *echo.Context) error {
	st, err := s.accounts.Settings(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

func (s *Server) putSettings(c *echo.Context) error {
	var st access.Settings
	if err := bindJSON(c, &st); err != nil {
		return err
	}
	if err := s.accounts.SetSettings(c.Request().Context(), currentUser(c).ID, st); err != nil {
		return err
	}
	s.audit(c, "settings_change", "min_count", map[string]any{"min_count": st.MinCount})
	return c.JSON(http.StatusOK, st)
}

func (s *Server) auditLog(c *echo.Context) error {
	var f access.AuditFilter
	var err error
	if v := c.QueryParam("user_id"); v != "" {
		if f.UserID, err = strconv.ParseInt(v, 10, 64); err != nil {
			return fmt.Errorf("%w: user_id: not an integer: %q", errs.Invalid, v)
		}
	}
	if v := c.QueryParam("before"); v != "" {
		if f.Before, err = strconv.ParseInt(v, 10, 64); err != nil {
			return fmt.Errorf("%w: before: not an integer: %q", errs.Invalid, v)
		}
	}
	if v := c.QueryParam("since"); v != "" {
		if f.Since, err = time.Parse(time.RFC3339, v); err != nil {
			if f.Since, err = time.Parse(time.DateOnly, v); err != nil {
				return fmt.Errorf("%w: since: not a date or RFC 3339 time: %q", errs.Invalid, v)
			}
		}
	}
	if f.Limit, err = queryInt(c, "limit", 100); err != nil {
		return err
	}
	f.Action = c.QueryParam("action")
	ev, err := s.accounts.AuditEvents(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"events": ev})
}
