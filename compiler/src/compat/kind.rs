//! [`ChangeKind`]: every kind of difference the checker reports, named after Confluent's
//! `Difference.Type` where there is one, with its effect on each direction.

/// What a change does to the set of values a schema accepts, and so to each direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// No effect on validation (annotations): compatible both ways.
    Neutral,
    /// The new schema accepts more: it reads old data (BACKWARD), the old one may not read
    /// new data (not FORWARD).
    Widens,
    /// The new schema accepts less: not BACKWARD, but FORWARD.
    Narrows,
    /// Breaks both directions.
    Breaks,
    /// Depends on the schemas around the change (a covering `additionalProperties`, a
    /// matching of `anyOf` branches, a `default`): the change carries its own flags.
    Contextual,
}

impl Effect {
    /// `(backward_ok, forward_ok)`, or `None` for [`Effect::Contextual`].
    pub fn flags(self) -> Option<(bool, bool)> {
        match self {
            Effect::Neutral => Some((true, true)),
            Effect::Widens => Some((true, false)),
            Effect::Narrows => Some((false, true)),
            Effect::Breaks => Some((false, false)),
            Effect::Contextual => None,
        }
    }
}

macro_rules! kinds {
    ($( $(#[$doc:meta])* $name:ident = $text:literal, $effect:ident; )*) => {
        /// A kind of difference between an old and a new schema. The `as_str` names are
        /// Confluent's `Difference.Type` names where Confluent has the same rule.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ChangeKind {
            $( $(#[$doc])* $name, )*
        }

        impl ChangeKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [ChangeKind] = &[$(ChangeKind::$name),*];

            /// The `SCREAMING_SNAKE_CASE` name, as in JSON output.
            pub fn as_str(self) -> &'static str {
                match self { $(ChangeKind::$name => $text,)* }
            }

            /// What the change does to each direction.
            pub fn effect(self) -> Effect {
                match self { $(ChangeKind::$name => Effect::$effect,)* }
            }
        }
    };
}

kinds! {
    /// `id`/`$id` changed.
    IdChanged = "ID_CHANGED", Neutral;
    /// `title` changed.
    TitleChanged = "TITLE_CHANGED", Neutral;
    /// `description` changed.
    DescriptionChanged = "DESCRIPTION_CHANGED", Neutral;
    /// `default` changed.
    DefaultChanged = "DEFAULT_CHANGED", Neutral;

    /// The new schema accepts every value (`{}`/`true`) where the old one constrained.
    RelaxedToAny = "RELAXED_TO_ANY", Widens;
    /// The old schema accepted every value; the new one constrains.
    ConstrainedFromAny = "CONSTRAINED_FROM_ANY", Narrows;
    /// The new schema is `false`: it accepts nothing.
    RestrictedToNothing = "RESTRICTED_TO_NOTHING", Narrows;
    /// The old schema was `false`.
    RelaxedFromNothing = "RELAXED_FROM_NOTHING", Widens;
    /// More types are allowed (`integer` → `number`, `string` → `[string, null]`).
    TypeWidened = "TYPE_EXTENDED", Widens;
    /// Fewer types are allowed (`[string, null]` → `string`, `number` → `integer`).
    TypeNarrowed = "TYPE_NARROWED", Narrows;
    /// The types changed, neither including the other.
    TypeChanged = "TYPE_CHANGED", Breaks;

    /// `maxLength` added.
    MaxLengthAdded = "MAX_LENGTH_ADDED", Narrows;
    /// `maxLength` removed.
    MaxLengthRemoved = "MAX_LENGTH_REMOVED", Widens;
    /// `maxLength` increased.
    MaxLengthIncreased = "MAX_LENGTH_INCREASED", Widens;
    /// `maxLength` decreased.
    MaxLengthDecreased = "MAX_LENGTH_DECREASED", Narrows;
    /// `minLength` added.
    MinLengthAdded = "MIN_LENGTH_ADDED", Narrows;
    /// `minLength` removed.
    MinLengthRemoved = "MIN_LENGTH_REMOVED", Widens;
    /// `minLength` increased.
    MinLengthIncreased = "MIN_LENGTH_INCREASED", Narrows;
    /// `minLength` decreased.
    MinLengthDecreased = "MIN_LENGTH_DECREASED", Widens;
    /// `pattern` added.
    PatternAdded = "PATTERN_ADDED", Narrows;
    /// `pattern` removed.
    PatternRemoved = "PATTERN_REMOVED", Widens;
    /// `pattern` changed.
    PatternChanged = "PATTERN_CHANGED", Breaks;

    /// `maximum` added.
    MaximumAdded = "MAXIMUM_ADDED", Narrows;
    /// `maximum` removed.
    MaximumRemoved = "MAXIMUM_REMOVED", Widens;
    /// `maximum` increased.
    MaximumIncreased = "MAXIMUM_INCREASED", Widens;
    /// `maximum` decreased.
    MaximumDecreased = "MAXIMUM_DECREASED", Narrows;
    /// `minimum` added.
    MinimumAdded = "MINIMUM_ADDED", Narrows;
    /// `minimum` removed.
    MinimumRemoved = "MINIMUM_REMOVED", Widens;
    /// `minimum` increased.
    MinimumIncreased = "MINIMUM_INCREASED", Narrows;
    /// `minimum` decreased.
    MinimumDecreased = "MINIMUM_DECREASED", Widens;
    /// `exclusiveMaximum` added (a number, or Draft 4's `true`).
    ExclusiveMaximumAdded = "EXCLUSIVE_MAXIMUM_ADDED", Narrows;
    /// `exclusiveMaximum` removed.
    ExclusiveMaximumRemoved = "EXCLUSIVE_MAXIMUM_REMOVED", Widens;
    /// `exclusiveMaximum` increased.
    ExclusiveMaximumIncreased = "EXCLUSIVE_MAXIMUM_INCREASED", Widens;
    /// `exclusiveMaximum` decreased.
    ExclusiveMaximumDecreased = "EXCLUSIVE_MAXIMUM_DECREASED", Narrows;
    /// `exclusiveMinimum` added.
    ExclusiveMinimumAdded = "EXCLUSIVE_MINIMUM_ADDED", Narrows;
    /// `exclusiveMinimum` removed.
    ExclusiveMinimumRemoved = "EXCLUSIVE_MINIMUM_REMOVED", Widens;
    /// `exclusiveMinimum` increased.
    ExclusiveMinimumIncreased = "EXCLUSIVE_MINIMUM_INCREASED", Narrows;
    /// `exclusiveMinimum` decreased.
    ExclusiveMinimumDecreased = "EXCLUSIVE_MINIMUM_DECREASED", Widens;
    /// `multipleOf` added.
    MultipleOfAdded = "MULTIPLE_OF_ADDED", Narrows;
    /// `multipleOf` removed.
    MultipleOfRemoved = "MULTIPLE_OF_REMOVED", Widens;
    /// `multipleOf` became a multiple of the old value.
    MultipleOfExpanded = "MULTIPLE_OF_EXPANDED", Narrows;
    /// The old `multipleOf` is a multiple of the new one.
    MultipleOfReduced = "MULTIPLE_OF_REDUCED", Widens;
    /// `multipleOf` changed otherwise.
    MultipleOfChanged = "MULTIPLE_OF_CHANGED", Breaks;

    /// `enum`/`const` added.
    EnumAdded = "ENUM_ADDED", Narrows;
    /// `enum`/`const` removed.
    EnumRemoved = "ENUM_REMOVED", Widens;
    /// Values added to `enum`.
    EnumExtended = "ENUM_ARRAY_EXTENDED", Widens;
    /// Values removed from `enum`.
    EnumNarrowed = "ENUM_ARRAY_NARROWED", Narrows;
    /// Values both added to and removed from `enum`, or `const` changed.
    EnumChanged = "ENUM_ARRAY_CHANGED", Breaks;

    /// A declared property became required (no `default`).
    RequiredAttributeAdded = "REQUIRED_ATTRIBUTE_ADDED", Narrows;
    /// A declared property with a `default` became required.
    RequiredAttributeWithDefaultAdded = "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED", Neutral;
    /// A property is no longer required (FORWARD only when it has a `default`).
    RequiredAttributeRemoved = "REQUIRED_ATTRIBUTE_REMOVED", Contextual;
    /// `maxProperties` added.
    MaxPropertiesAdded = "MAX_PROPERTIES_ADDED", Narrows;
    /// `maxProperties` removed.
    MaxPropertiesRemoved = "MAX_PROPERTIES_REMOVED", Widens;
    /// `maxProperties` increased.
    MaxPropertiesIncreased = "MAX_PROPERTIES_INCREASED", Widens;
    /// `maxProperties` decreased.
    MaxPropertiesDecreased = "MAX_PROPERTIES_DECREASED", Narrows;
    /// `minProperties` added.
    MinPropertiesAdded = "MIN_PROPERTIES_ADDED", Narrows;
    /// `minProperties` removed.
    MinPropertiesRemoved = "MIN_PROPERTIES_REMOVED", Widens;
    /// `minProperties` increased.
    MinPropertiesIncreased = "MIN_PROPERTIES_INCREASED", Narrows;
    /// `minProperties` decreased.
    MinPropertiesDecreased = "MIN_PROPERTIES_DECREASED", Widens;
    /// `additionalProperties: false` lifted.
    AdditionalPropertiesAdded = "ADDITIONAL_PROPERTIES_ADDED", Widens;
    /// `additionalProperties: false` set: the object is now closed.
    AdditionalPropertiesRemoved = "ADDITIONAL_PROPERTIES_REMOVED", Narrows;
    /// A schema for `additionalProperties` set where any value was allowed.
    AdditionalPropertiesNarrowed = "ADDITIONAL_PROPERTIES_NARROWED", Narrows;
    /// The schema of `additionalProperties` dropped: any value allowed.
    AdditionalPropertiesExtended = "ADDITIONAL_PROPERTIES_EXTENDED", Widens;
    /// A property dependency (`dependencies: {a: [b]}`) added.
    DependencyArrayAdded = "DEPENDENCY_ARRAY_ADDED", Narrows;
    /// A property dependency removed.
    DependencyArrayRemoved = "DEPENDENCY_ARRAY_REMOVED", Widens;
    /// Names added to a property dependency.
    DependencyArrayExtended = "DEPENDENCY_ARRAY_EXTENDED", Narrows;
    /// Names removed from a property dependency.
    DependencyArrayNarrowed = "DEPENDENCY_ARRAY_NARROWED", Widens;
    /// A property dependency changed otherwise.
    DependencyArrayChanged = "DEPENDENCY_ARRAY_CHANGED", Breaks;
    /// A schema dependency added.
    DependencySchemaAdded = "DEPENDENCY_SCHEMA_ADDED", Narrows;
    /// A schema dependency removed.
    DependencySchemaRemoved = "DEPENDENCY_SCHEMA_REMOVED", Widens;

    /// A property with the empty schema added to an open object (not required).
    PropertyWithEmptySchemaAddedToOpenContentModel =
        "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL", Neutral;
    /// An optional property added to an open object: old data may hold that name with
    /// any value.
    OptionalPropertyAddedToOpenContentModel = "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", Narrows;
    /// A required property without `default` added to an open object.
    RequiredPropertyAddedToOpenContentModel = "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", Narrows;
    /// A required property with a `default` added to an open object.
    RequiredPropertyWithDefaultAddedToOpenContentModel =
        "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL", Narrows;
    /// An optional property added to a closed (or partially open) object.
    OptionalPropertyAddedToClosedContentModel = "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", Contextual;
    /// A required property without `default` added to a closed (or partially open) object.
    RequiredPropertyAddedToClosedContentModel = "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", Contextual;
    /// A required property with a `default` added to a closed (or partially open) object.
    RequiredPropertyWithDefaultAddedToClosedContentModel =
        "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL", Contextual;
    /// A property removed from an open object.
    PropertyRemovedFromOpenContentModel = "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL", Contextual;
    /// A property whose schema was `false` removed from a closed object.
    PropertyWithFalseRemovedFromClosedContentModel =
        "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL", Neutral;
    /// A property removed from a closed object: old data may hold it.
    PropertyRemovedFromClosedContentModel = "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL", Contextual;
    /// A property added whose name the old `patternProperties`/`additionalProperties`
    /// schema covers; the flags say in which directions the schemas agree.
    PropertyAddedToPartiallyOpenContentModel =
        "PROPERTY_ADDED_TO_PARTIALLY_OPEN_CONTENT_MODEL", Contextual;
    /// A property removed whose name the new `patternProperties`/`additionalProperties`
    /// schema covers.
    PropertyRemovedFromPartiallyOpenContentModel =
        "PROPERTY_REMOVED_FROM_PARTIALLY_OPEN_CONTENT_MODEL", Contextual;

    /// `maxItems` added.
    MaxItemsAdded = "MAX_ITEMS_ADDED", Narrows;
    /// `maxItems` removed.
    MaxItemsRemoved = "MAX_ITEMS_REMOVED", Widens;
    /// `maxItems` increased.
    MaxItemsIncreased = "MAX_ITEMS_INCREASED", Widens;
    /// `maxItems` decreased.
    MaxItemsDecreased = "MAX_ITEMS_DECREASED", Narrows;
    /// `minItems` added.
    MinItemsAdded = "MIN_ITEMS_ADDED", Narrows;
    /// `minItems` removed.
    MinItemsRemoved = "MIN_ITEMS_REMOVED", Widens;
    /// `minItems` increased.
    MinItemsIncreased = "MIN_ITEMS_INCREASED", Narrows;
    /// `minItems` decreased.
    MinItemsDecreased = "MIN_ITEMS_DECREASED", Widens;
    /// `uniqueItems: true` set.
    UniqueItemsAdded = "UNIQUE_ITEMS_ADDED", Narrows;
    /// `uniqueItems: true` dropped.
    UniqueItemsRemoved = "UNIQUE_ITEMS_REMOVED", Widens;
    /// `additionalItems: false` lifted.
    AdditionalItemsAdded = "ADDITIONAL_ITEMS_ADDED", Widens;
    /// `additionalItems: false` set.
    AdditionalItemsRemoved = "ADDITIONAL_ITEMS_REMOVED", Narrows;
    /// A schema for `additionalItems` set where any item was allowed.
    AdditionalItemsNarrowed = "ADDITIONAL_ITEMS_NARROWED", Narrows;
    /// The schema of `additionalItems` dropped.
    AdditionalItemsExtended = "ADDITIONAL_ITEMS_EXTENDED", Widens;
    /// A tuple item with the empty schema added where more items were allowed.
    ItemWithEmptySchemaAddedToOpenContentModel =
        "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL", Neutral;
    /// A tuple item added where more items of any value were allowed.
    ItemAddedToOpenContentModel = "ITEM_ADDED_TO_OPEN_CONTENT_MODEL", Narrows;
    /// A tuple item added where no more items were allowed (FORWARD only when its schema
    /// is `false`).
    ItemAddedToClosedContentModel = "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL", Contextual;
    /// A tuple item removed; more items of any value are allowed.
    ItemRemovedFromOpenContentModel = "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL", Contextual;
    /// A tuple item whose schema was `false` removed; no more items are allowed.
    ItemWithFalseRemovedFromClosedContentModel =
        "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL", Neutral;
    /// A tuple item removed; no more items are allowed.
    ItemRemovedFromClosedContentModel = "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL", Narrows;
    /// A tuple item added that the old `additionalItems` schema covers.
    ItemAddedToPartiallyOpenContentModel = "ITEM_ADDED_TO_PARTIALLY_OPEN_CONTENT_MODEL", Contextual;
    /// A tuple item removed that the new `additionalItems` schema covers.
    ItemRemovedFromPartiallyOpenContentModel =
        "ITEM_REMOVED_FROM_PARTIALLY_OPEN_CONTENT_MODEL", Contextual;

    /// `allOf`/`anyOf`/`oneOf` replaced by another (`allOf` → `anyOf` reads more).
    CombinedCriterionChanged = "COMBINED_TYPE_CHANGED", Contextual;
    /// `allOf` gained branches.
    ProductTypeExtended = "PRODUCT_TYPE_EXTENDED", Narrows;
    /// `allOf` lost branches.
    ProductTypeNarrowed = "PRODUCT_TYPE_NARROWED", Widens;
    /// `anyOf`/`oneOf` gained branches, or a schema became one branch of a union.
    SumTypeExtended = "SUM_TYPE_EXTENDED", Widens;
    /// `anyOf`/`oneOf` lost branches, or a union became one of its branches.
    SumTypeNarrowed = "SUM_TYPE_NARROWED", Narrows;
    /// The branches could not all be matched to compatible branches.
    CombinedSubschemasChanged = "COMBINED_TYPE_SUBSCHEMAS_CHANGED", Contextual;
    /// An `allOf`/`anyOf`/`oneOf`/`not` keyword added next to other keywords.
    CombinatorAdded = "COMBINATOR_ADDED", Narrows;
    /// An `allOf`/`anyOf`/`oneOf`/`not` keyword removed.
    CombinatorRemoved = "COMBINATOR_REMOVED", Widens;
    /// The schema under `not` changed.
    NotSchemaChanged = "NOT_TYPE_CHANGED", Contextual;

    /// The schemas are too large or too deeply nested to compare; treated as breaking.
    ComparisonLimit = "COMPARISON_LIMIT", Breaks;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_effects_sensible() {
        let names: HashSet<&str> = ChangeKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), ChangeKind::ALL.len());
        assert_eq!(
            ChangeKind::OptionalPropertyAddedToOpenContentModel.as_str(),
            "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
        );
        assert_eq!(
            ChangeKind::TypeWidened.effect().flags(),
            Some((true, false))
        );
        assert_eq!(
            ChangeKind::EnumNarrowed.effect().flags(),
            Some((false, true))
        );
        assert_eq!(
            ChangeKind::PatternChanged.effect().flags(),
            Some((false, false))
        );
        assert_eq!(
            ChangeKind::TitleChanged.effect().flags(),
            Some((true, true))
        );
        assert_eq!(ChangeKind::CombinedSubschemasChanged.effect().flags(), None);
    }
}
