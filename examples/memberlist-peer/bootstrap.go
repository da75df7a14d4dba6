package main

// The coordinator's bootstrap service (docs/PROTOCOL.md section 10): where a
// peer started without seeds finds members to join through.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

type contact struct {
	Name    string `json:"name"`
	Address string `json:"address"`
}

type bootstrapClient struct {
	url, token string
}

func (b bootstrapClient) post(path string, body any, timeout time.Duration) ([]byte, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, strings.TrimSuffix(b.url, "/")+path, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if b.token != "" {
		req.Header.Set("Authorization", "Bearer "+b.token)
	}
	res, err := (&http.Client{Timeout: timeout}).Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if res.StatusCode/100 != 2 {
		return nil, fmt.Errorf("bootstrap %s: HTTP %d: %.200s", path, res.StatusCode, data)
	}
	return data, nil
}

// join registers this peer and returns the contacts the service had before it.
func (b bootstrapClient) join(name, address string) ([]contact, error) {
	data, err := b.post("/join", map[string]string{"name": name, "address": address}, 10*time.Second)
	if err != nil {
		return nil, err
	}
	var answer struct {
		Contacts []contact `json:"contacts"`
	}
	if err := json.Unmarshal(data, &answer); err != nil {
		return nil, fmt.Errorf("bootstrap /join: %v", err)
	}
	return answer.Contacts, nil
}

func (b bootstrapClient) leave(name string) error {
	_, err := b.post("/leave", map[string]string{"name": name}, 2*time.Second)
	return err
}
