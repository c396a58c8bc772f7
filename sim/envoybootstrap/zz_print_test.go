package envoybootstrap

import (
	"fmt"
	"testing"
)

func TestZZPrint(t *testing.T) {
	c := loadEG(t, newEGPKI(t))
	for _, s := range c.Ignored {
		fmt.Println(s)
	}
}
