//! Request bodies whose fields depend on one value (`role` of a new API key, `to` of a
//! transition), published as a `oneOf` of named variants with a `discriminator`, so generated
//! clients get one meaningful type per variant (`TransitionToResolved`, not `TransitionType2`).

use utoipa::openapi::schema::{
    AdditionalProperties, Discriminator, ObjectBuilder, OneOfBuilder, Schema, Type,
};
use utoipa::openapi::{Ref, RefOr};

/// One variant: a closed object whose `property` is exactly `tag`, plus the fields it takes.
pub struct Variant {
    /// The component schema's name.
    pub name: &'static str,
    pub tag: &'static str,
    pub object: ObjectBuilder,
}

/// The variants of a union told apart by `property`.
pub struct TaggedUnion {
    property: &'static str,
    variants: Vec<Variant>,
}

impl TaggedUnion {
    pub fn new(property: &'static str) -> Self {
        Self {
            property,
            variants: Vec::new(),
        }
    }

    /// Adds the variant `name` for `property: tag`; `fields` adds what else it takes.
    pub fn variant(
        mut self,
        name: &'static str,
        tag: &'static str,
        description: &str,
        fields: impl FnOnce(ObjectBuilder) -> ObjectBuilder,
    ) -> Self {
        let object = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(description))
            .property(
                self.property,
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some([tag])),
            )
            .required(self.property)
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        self.variants.push(Variant {
            name,
            tag,
            object: fields(object),
        });
        self
    }

    /// The union itself: references to the variants, with the discriminator mapping each tag to
    /// its variant.
    pub fn one_of(&self) -> OneOfBuilder {
        let mapping = self
            .variants
            .iter()
            .map(|v| (v.tag, format!("#/components/schemas/{}", v.name)));
        self.variants
            .iter()
            .fold(OneOfBuilder::new(), |one_of, v| {
                one_of.item(Ref::from_schema_name(v.name))
            })
            .discriminator(Some(Discriminator::with_mapping(self.property, mapping)))
    }

    /// The variants as component schemas, for `ToSchema::schemas`.
    pub fn components(self) -> impl Iterator<Item = (String, RefOr<Schema>)> {
        self.variants
            .into_iter()
            .map(|v| (v.name.to_owned(), v.object.into()))
    }
}
