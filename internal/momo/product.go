package momo

import (
	"errors"
	"fmt"
	"strings"
)

// Product is a MoMo API product. Each product has its own subscription key and its own tokens.
type Product string

// The products this client supports.
const (
	// Disbursement pays out from a prefunded account, one payee per transfer.
	Disbursement Product = "disbursement"
	// Remittance pays local recipients from abroad.
	Remittance Product = "remittance"
)

// products lists every supported product, in a fixed order.
var products = []Product{Disbursement, Remittance}

// ErrUnknownProduct is wrapped by errors about a product this client does not support.
var ErrUnknownProduct = errors.New("momo: unknown product")

// ParseProduct returns the product named by s, ignoring case and surrounding spaces.
func ParseProduct(s string) (Product, error) {
	p := Product(strings.ToLower(strings.TrimSpace(s)))
	if !p.valid() {
		return "", fmt.Errorf("%w %q (want %q or %q)", ErrUnknownProduct, s, Disbursement, Remittance)
	}
	return p, nil
}

// String returns the product's name as used in API paths.
func (p Product) String() string { return string(p) }

func (p Product) valid() bool {
	return p == Disbursement || p == Remittance
}
