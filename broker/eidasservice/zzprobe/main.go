package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"

	"github.com/ozg-broker/eidas-broker/adapters/eidas/xmlsec"
)

func main() {
	v := "/work/shared/vectors/eidas-node-2.9/"
	b, _ := os.ReadFile(v + "responses/saml_response_key_transport_rsa-oaep.xml")
	doc, err := xmlsec.Parse(b, xmlsec.Limits{})
	if err != nil {
		panic(err)
	}
	kb, _ := os.ReadFile(v + "keys/eidasKeyStore/local-demo-cert.key.pem")
	blk, _ := pem.Decode(kb)
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		panic(err)
	}
	ea := doc.FindElement("//EncryptedAssertion")
	out, err := xmlsec.Decrypt(ea, k, xmlsec.DecryptOptions{})
	if err != nil {
		panic(err)
	}
	s, _ := xmlsec.Serialize(out)
	fmt.Println(string(s))
}
