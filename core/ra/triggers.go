package ra

// openraft's Trigger: actions an operator or test asks for at once.

// Elect starts an election on this server now.
func (s *Server) Elect() error {
	if s.terminated {
		return ErrTerminated
	}
	err := s.node.Campaign()
	s.drive()
	return err
}

// Heartbeat sends a heartbeat round now (leader only).
func (s *Server) Heartbeat() error {
	if s.terminated {
		return ErrTerminated
	}
	err := s.node.Heartbeat()
	s.drive()
	return err
}

// TriggerSnapshot takes a snapshot of the state machine as soon as the
// outstanding writes are done.
func (s *Server) TriggerSnapshot() error {
	if s.terminated {
		return ErrTerminated
	}
	s.snapWanted = true
	s.maybeSnapshot()
	s.drive()
	return nil
}

// PurgeLog drops log entries up to upto — never past the newest snapshot,
// and not while an active follower is still being sent them.
func (s *Server) PurgeLog(upto uint64) error {
	if s.terminated {
		return ErrTerminated
	}
	s.node.PurgeLog(upto)
	s.drive()
	return nil
}

// AllowNextRevert lets the leader restart replication once to follower to,
// whose log went backwards (its data was wiped on purpose), instead of
// treating it as fatal.
func (s *Server) AllowNextRevert(to uint64, allow bool) error {
	if s.terminated {
		return ErrTerminated
	}
	err := s.node.AllowNextRevert(to, allow)
	s.drive()
	return err
}
